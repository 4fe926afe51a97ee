/** The support API's webhook endpoints (src/http/routes/webhooks.ts); behaviour in src/http/webhooks-api.ts. @module */
import './telemetry.js';
import {
  deleteWebhook,
  enableWebhook,
  getWebhook,
  listWebhooks,
  postWebhook,
} from '../src/http/webhooks-api.js';
import { webhookRoutes } from '../src/http/routes/webhooks.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(webhookRoutes, {
  createWebhook: (b, request, staff) => postWebhook(b, request, staff),
  listWebhooks: (b, request) => listWebhooks(b, request),
  getWebhook: (b, request) => getWebhook(b, request),
  enableWebhook: (b, request, staff) => enableWebhook(b, request, staff),
  deleteWebhook: (b, request, staff) => deleteWebhook(b, request, staff),
});
