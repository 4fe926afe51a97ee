/** `GET /api/openapi.json`: the OpenAPI 3.1 document (src/http/routes/operations.ts, src/http/openapi.ts). @module */
import './telemetry.js';
import { openApiReply } from '../src/http/openapi.js';
import { openApiRoutes } from '../src/http/routes/operations.js';
import { broker } from './runtime.js';
import { registerRoutes } from './routes.js';

registerRoutes(openApiRoutes, {
  openApi: async () => {
    const b = await broker();
    return openApiReply({
      publicUrl: b.config.publicUrl,
      profiles: b.profiles,
      vendorName: b.config.vendorName,
    });
  },
});
