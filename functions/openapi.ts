/** `GET /api/openapi.json`: the OpenAPI 3.1 document (anonymous; see src/http/openapi.ts). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { openApiReply } from '../src/http/openapi.js';
import { broker } from './runtime.js';

app.http('openApi', {
  methods: ['GET'],
  route: 'api/openapi.json',
  authLevel: 'anonymous',
  handler: async () => {
    const b = await broker();
    return openApiReply({
      publicUrl: b.config.publicUrl,
      profiles: b.profiles,
      vendorName: b.config.vendorName,
    });
  },
});
