/** The token endpoint and its Microsoft-shaped alias, and RFC 8414 metadata (SPEC.md "Appliances"). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { authorizationServerMetadata, handleTokenRequest } from '../src/http/token-endpoint.js';
import { broker, withBroker } from './runtime.js';

for (const [name, route] of [
  ['token', 'oauth2/token'],
  ['tokenMicrosoftPath', '{tenant}/oauth2/v2.0/token'],
] as const) {
  app.http(name, {
    methods: ['POST'],
    route,
    authLevel: 'anonymous',
    handler: (request, context) => withBroker((b) => handleTokenRequest(b, request, context)),
  });
}

app.http('authorizationServerMetadata', {
  methods: ['GET'],
  route: '.well-known/oauth-authorization-server',
  authLevel: 'anonymous',
  handler: async () => {
    const b = await broker();
    return authorizationServerMetadata({ publicUrl: b.config.publicUrl, profiles: b.profiles });
  },
});
