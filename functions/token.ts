/**
 * The token endpoint, its Microsoft-shaped aliases (v2 and v1), the RFC 8414 metadata and the OpenID
 * configuration of each tenant (src/http/routes/appliances.ts). @module
 */
import './telemetry.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { authorizeEndpoint, openIdConfiguration } from '../src/http/openid-configuration.js';
import {
  authorizationServerMetadata,
  handleDeviceAuthorization,
  handleEnrollment,
  handleTokenRequest,
} from '../src/http/token-endpoint.js';
import { tokenRoutes } from '../src/http/routes/appliances.js';
import { broker, withBroker } from './runtime.js';
import { registerRoutes } from './routes.js';

const token = (request: HttpRequest, context: InvocationContext) =>
  withBroker((b) => handleTokenRequest(b, request, context));

const metadata = (version: 'v1' | 'v2') => (request: HttpRequest) =>
  withBroker((b) => openIdConfiguration(b.openIdConfiguration, request, version));

registerRoutes(tokenRoutes, {
  token,
  tokenMicrosoftPath: token,
  deviceAuthorization: (request, context) =>
    withBroker((b) => handleDeviceAuthorization({ ...b, publicUrl: b.settings.publicUrl }, request, context)),
  enroll: (request, context) => withBroker((b) => handleEnrollment(b, request, context)),
  tokenV1: (request, context) => withBroker((b) => handleTokenRequest(b, request, context, 'v1')),
  openIdConfiguration: metadata('v2'),
  openIdConfigurationV1: metadata('v1'),
  authorize: async () => authorizeEndpoint(),
  authorizeV1: async () => authorizeEndpoint(),
  authorizationServerMetadata: async () => {
    const b = await broker();
    return authorizationServerMetadata({ publicUrl: b.config.publicUrl, profiles: b.profiles });
  },
});
