/** The customer's browser routes of the consent flow (SPEC.md "Customers"); behaviour in src/http/consent-endpoints.ts. @module */
import './telemetry.js';
import { app } from '@azure/functions';
import {
  connectGo,
  connectLanding,
  consentCallbackEndpoint,
  signinEndpoint,
} from '../src/http/consent-endpoints.js';
import { broker, correlated } from './runtime.js';

const routes = [
  ['connectLanding', 'connect/{code}', connectLanding],
  ['connectGo', 'connect/{code}/go', connectGo],
  ['consentCallback', 'consent/callback', consentCallbackEndpoint],
  ['consentSignin', 'consent/signin', signinEndpoint],
] as const;

for (const [name, route, endpoint] of routes) {
  app.http(name, {
    methods: ['GET'],
    route,
    authLevel: 'anonymous',
    handler: async (request, context) => endpoint(correlated(await broker(), context), request, context),
  });
}
