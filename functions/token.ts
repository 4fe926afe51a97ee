/** The token endpoint and its Microsoft-shaped alias, and RFC 8414 metadata (src/http/routes/appliances.ts). @module */
import './telemetry.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { authorizationServerMetadata, handleTokenRequest } from '../src/http/token-endpoint.js';
import { tokenRoutes } from '../src/http/routes/appliances.js';
import { broker, withBroker } from './runtime.js';
import { registerRoutes } from './routes.js';

const token = (request: HttpRequest, context: InvocationContext) =>
  withBroker((b) => handleTokenRequest(b, request, context));

registerRoutes(tokenRoutes, {
  token,
  tokenMicrosoftPath: token,
  authorizationServerMetadata: async () => {
    const b = await broker();
    return authorizationServerMetadata({ publicUrl: b.config.publicUrl, profiles: b.profiles });
  },
});
