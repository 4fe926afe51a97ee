/**
 * Zero-touch enrollment: the device's request (src/http/routes/appliances.ts `enroll`; its polls go to the token
 * endpoint, functions/token.ts) and the administrator's pages (src/http/routes/customers.ts `enrollmentRoutes`).
 * @module
 */
import './telemetry.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { enrollEndpoint, enrollGoEndpoint } from '../src/http/enrollment-endpoints.js';
import { enrollmentRoutes } from '../src/http/routes/customers.js';
import { broker, correlated } from './runtime.js';
import { registerRoutes } from './routes.js';

type Endpoint = typeof enrollEndpoint;
const withBroker = (endpoint: Endpoint) => async (request: HttpRequest, context: InvocationContext) =>
  endpoint(correlated(await broker(), context), request, context);

registerRoutes(enrollmentRoutes, {
  enrollmentVerification: withBroker(enrollEndpoint),
  enrollmentGo: withBroker(enrollGoEndpoint),
});
