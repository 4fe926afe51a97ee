/** Support API: mailbox grants (src/http/routes/support.ts); behaviour in src/http/mailbox-grants-api.ts. @module */
import './telemetry.js';
import {
  deleteMailboxGrant,
  getMailboxGrant,
  listMailboxGrants,
  postMailboxGrant,
} from '../src/http/mailbox-grants-api.js';
import type { Broker } from '../src/broker.js';
import type { GrantDeps } from '../src/grants/grants.js';
import { mailboxGrantRoutes } from '../src/http/routes/support.js';
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
