/** The support console's pages (src/http/routes/console.ts); behaviour in src/http/console-endpoints.ts. @module */
import './telemetry.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { Broker } from '../src/broker.js';
import type { HttpReply } from '../src/http/types.js';
import {
  consoleCallbackEndpoint,
  consoleOverviewEndpoint,
  consoleSignInEndpoint,
  consoleSignOutEndpoint,
  consoleTenantEndpoint,
  consoleTenantsEndpoint,
  consoleWebhooksEndpoint,
} from '../src/http/console-endpoints.js';
import {
  consoleApplianceChangeEndpoint,
  consoleApplianceEndpoint,
  consoleCheckEndpoint,
  consoleExchangeSetupEndpoint,
  consoleOffboardEndpoint,
  consoleOnboardingEndpoint,
} from '../src/http/console-actions.js';
import { consoleRoutes } from '../src/http/routes/console.js';
import { broker, correlated } from './runtime.js';
import { registerRoutes } from './routes.js';

type Endpoint = (deps: Broker, request: HttpRequest, log: InvocationContext) => Promise<HttpReply>;
const withBroker = (endpoint: Endpoint) => async (request: HttpRequest, context: InvocationContext) =>
  endpoint(correlated(await broker(), context), request, context);

registerRoutes(consoleRoutes, {
  consoleOverview: withBroker(consoleOverviewEndpoint),
  consoleSignIn: withBroker(consoleSignInEndpoint),
  consoleCallback: withBroker(consoleCallbackEndpoint),
  consoleSignOut: withBroker(consoleSignOutEndpoint),
  consoleTenants: withBroker(consoleTenantsEndpoint),
  consoleTenant: withBroker(consoleTenantEndpoint),
  consoleCheck: withBroker(consoleCheckEndpoint),
  consoleExchangeSetup: withBroker(consoleExchangeSetupEndpoint),
  consoleCreateOnboarding: withBroker(consoleOnboardingEndpoint),
  consoleRegisterAppliance: withBroker(consoleApplianceEndpoint),
  consoleRotateSecret: withBroker(consoleApplianceChangeEndpoint('secret')),
  consoleRevokeAppliance: withBroker(consoleApplianceChangeEndpoint('revoke')),
  consoleOffboard: withBroker(consoleOffboardEndpoint),
  consoleWebhooks: withBroker(consoleWebhooksEndpoint),
});
