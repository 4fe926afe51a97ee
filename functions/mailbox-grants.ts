/**
 * Mailbox grants: support's routes (src/http/routes/support.ts, behaviour in src/http/mailbox-grants-api.ts) and
 * the mailbox user's pages (src/http/routes/customers.ts `grantRoutes`, src/http/grant-endpoints.ts).
 * @module
 */
import './telemetry.js';
import {
  deleteMailboxGrant,
  getMailboxGrant,
  listMailboxGrants,
  postMailboxGrant,
} from '../src/http/mailbox-grants-api.js';
import type { Broker } from '../src/broker.js';
import type { GrantDeps } from '../src/grants/grants.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import {
  deviceEndpoint,
  deviceGoEndpoint,
  grantCallbackEndpoint,
  grantGoEndpoint,
  grantLandingEndpoint,
  type GrantHttpDeps,
} from '../src/http/grant-endpoints.js';
import { getApplianceGrant, listApplianceGrants, postApplianceGrant } from '../src/http/appliance-grants.js';
import { applianceGrantRoutes } from '../src/http/routes/appliances.js';
import { grantRoutes } from '../src/http/routes/customers.js';
import { mailboxGrantRoutes } from '../src/http/routes/support.js';
import { broker, correlated } from './runtime.js';
import { registerRoutes } from './routes.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(mailboxGrantRoutes, {
  createMailboxGrant: (b, request, staff) => postMailboxGrant(grantDeps(b), request, staff),
  listMailboxGrants: (b, request) => listMailboxGrants(grantDeps(b), request),
  getMailboxGrant: (b, request) => getMailboxGrant(grantDeps(b), request),
  revokeMailboxGrant: (b, request, staff) => deleteMailboxGrant(grantDeps(b), request, staff),
});

function grantDeps(b: Broker): GrantDeps {
  return { ...b, grants: b.mailboxGrants, publicUrl: b.settings.publicUrl };
}

type Endpoint = typeof grantLandingEndpoint;
const withBroker = (endpoint: Endpoint) => async (request: HttpRequest, context: InvocationContext) =>
  endpoint(signInDeps(correlated(await broker(), context)), request, context);

function signInDeps(b: Broker): GrantHttpDeps {
  return { ...b, grants: b.mailboxGrants };
}

registerRoutes(applianceGrantRoutes, {
  createApplianceMailboxGrant: async (request, context) => {
    const b = correlated(await broker(), context);
    return postApplianceGrant({ ...b, publicUrl: b.settings.publicUrl }, request, context);
  },
  listApplianceMailboxGrants: async (request, context) =>
    listApplianceGrants(correlated(await broker(), context), request, context),
  getApplianceMailboxGrant: async (request, context) =>
    getApplianceGrant(correlated(await broker(), context), request, context),
});

registerRoutes(grantRoutes, {
  mailboxGrantLanding: withBroker(grantLandingEndpoint),
  mailboxGrantGo: withBroker(grantGoEndpoint),
  deviceVerification: withBroker(deviceEndpoint),
  deviceGo: withBroker(deviceGoEndpoint),
  mailboxGrantCallback: withBroker(grantCallbackEndpoint),
});
