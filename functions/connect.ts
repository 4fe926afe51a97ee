/** The customer's browser routes of the consent flow (src/http/routes/customers.ts); behaviour in src/http/consent-endpoints.ts. @module */
import './telemetry.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import {
  connectGo,
  connectLanding,
  confirmEndpoint,
  consentCallbackEndpoint,
  signinEndpoint,
} from '../src/http/consent-endpoints.js';
import { connectRoutes } from '../src/http/routes/customers.js';
import { broker, correlated } from './runtime.js';
import { registerRoutes } from './routes.js';

type Endpoint = typeof connectLanding;
const withBroker = (endpoint: Endpoint) => async (request: HttpRequest, context: InvocationContext) =>
  endpoint(correlated(await broker(), context), request, context);

registerRoutes(connectRoutes, {
  connectLanding: withBroker(connectLanding),
  connectGo: withBroker(connectGo),
  consentCallback: withBroker(consentCallbackEndpoint),
  consentSignin: withBroker(signinEndpoint),
  consentConfirm: withBroker(confirmEndpoint),
});
