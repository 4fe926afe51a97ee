/** The customer's browser routes of the consent flow (SPEC.md "Customers"); behaviour in src/http/consent-endpoints.ts. @module */
import './telemetry.js';
import { app } from '@azure/functions';
import {
  connectGo,
  connectLanding,
  confirmEndpoint,
  consentCallbackEndpoint,
  signinEndpoint,
} from '../src/http/consent-endpoints.js';
import { broker, correlated } from './runtime.js';

const routes = [
  ['connectLanding', 'GET', 'connect/{code}', connectLanding],
  ['connectGo', 'GET', 'connect/{code}/go', connectGo],
  ['consentCallback', 'GET', 'consent/callback', consentCallbackEndpoint],
  ['consentSignin', 'GET', 'consent/signin', signinEndpoint],
  ['consentConfirm', 'POST', 'consent/confirm', confirmEndpoint],
] as const;

for (const [name, method, route, endpoint] of routes) {
  app.http(name, {
    methods: [method],
    route,
    authLevel: 'anonymous',
    handler: async (request, context) => endpoint(correlated(await broker(), context), request, context),
  });
}
