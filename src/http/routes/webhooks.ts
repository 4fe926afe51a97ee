/**
 * The webhook endpoints of vendor support (issue 22), registered by functions/webhooks.ts, behaviour in
 * src/http/webhooks-api.ts and src/webhooks/.
 * @module
 */
import { jsonBodyErrors, noStore, ok, supportErrors } from '../openapi/answers.js';
import { json, responseRef } from '../openapi/components.js';
import { ref } from '../openapi/schemas.js';
import { family } from './types.js';

export const webhookRoutes = family('support', {
  createWebhook: {
    method: 'POST',
    route: 'api/webhooks',
    access: 'Broker.Admin',
    summary: 'Register a webhook endpoint',
    description:
      'Events: `tenant.status_changed`, `consent.revoked`, `credential.expiring`, `mailbox_grant.reauth_required`, `appliance.revoked`, as CloudEvents 1.0 JSON (`application/cloudevents+json`, type `com.consentbroker.<event>`, with the `sequence` extension), signed as Standard Webhooks 1.0 (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret; refuse a timestamp more than 5 minutes off). Delivered at least once, in order per endpoint, retried with backoff for a day; an endpoint whose delivery fails for a day is disabled. https only; a host that resolves to a private, loopback or link-local address is refused. At most 20 endpoints. Audited.',
    requestBody: { required: true, content: json(ref('WebhookRequest')) },
    responses: {
      '201': ok('The endpoint and its signing secret, shown only here.', 'WebhookCreated'),
      ...supportErrors(jsonBodyErrors),
    },
  },
  listWebhooks: {
    method: 'GET',
    route: 'api/webhooks',
    access: 'Broker.Read',
    summary: 'The webhook endpoints',
    responses: { '200': ok('Every endpoint (no secret).', 'WebhookList'), ...supportErrors() },
  },
  getWebhook: {
    method: 'GET',
    route: 'api/webhooks/{webhookId}',
    access: 'Broker.Read',
    summary: 'A webhook endpoint and its delivery log',
    responses: {
      '200': ok('The endpoint and its newest deliveries.', 'WebhookWithDeliveries'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  enableWebhook: {
    method: 'POST',
    route: 'api/webhooks/{webhookId}/enable',
    access: 'Broker.Admin',
    summary: 'Enable a disabled webhook endpoint',
    description: 'Its queued deliveries are sent again from the oldest on. Audited.',
    responses: {
      '200': ok('The endpoint.', 'Webhook'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  deleteWebhook: {
    method: 'DELETE',
    route: 'api/webhooks/{webhookId}',
    access: 'Broker.Admin',
    summary: 'Delete a webhook endpoint',
    description: 'Nothing more is sent to it. Audited.',
    responses: {
      '204': { description: 'Deleted.', headers: noStore },
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
});
