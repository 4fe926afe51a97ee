/**
 * The support API's mailbox grants (src/http/routes/support.ts `mailboxGrantRoutes`): create one (a link for the
 * mailbox's user), list and read a tenant's, revoke one. Bodies, queries and path parameters are checked
 * against their declarations; what a grant may be is src/grants/grants.ts's to say.
 * @module
 */
import { effectiveGrantStatus, type MailboxGrant } from '../grants/grant-store.js';
import { createMailboxGrant, GrantRefused, revokeMailboxGrant, type GrantDeps } from '../grants/grants.js';
import { isMailboxAddress } from '../support/mailbox-address.js';
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound, Problem } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { mailboxGrantRoutes } from './routes/support.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';

const DEFAULT_PAGE = 100;

/** A GrantRefused as the problem it is (400, 404 or 409); other errors pass on to the outage map. */
export function refusal(err: unknown): never {
  if (err instanceof GrantRefused) {
    if (err.status === 404) throw notFound(err.message);
    if (err.status === 409) throw new Problem({ status: 409, title: 'Conflict', detail: err.message });
    throw badRequest(err.message);
  }
  throw err;
}

export async function postMailboxGrant(
  deps: GrantDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(mailboxGrantRoutes.createMailboxGrant, request);
  const { tenantId } = readPath<{ tenantId: string }>(mailboxGrantRoutes.createMailboxGrant, request);
  // Types, unknown fields, the appliance id's format, distinct profile names: the MailboxGrantRequest schema.
  const body = await readJsonBody(request, 'MailboxGrantRequest');
  if (body.mailbox !== undefined && !isMailboxAddress(body.mailbox))
    throw badRequest('mailbox: must be an email address (a dot-atom local part and a DNS domain name).');
  const { grant, consentUrl } = await createMailboxGrant(
    deps,
    {
      tenantId,
      applianceId: body.applianceId,
      profiles: body.profiles,
      ...(body.mailbox ? { mailbox: body.mailbox } : {}),
    },
    staffActor(staff),
  ).catch(refusal);
  return jsonReply(
    201,
    { id: grant.id, consentUrl, expiresAt: grant.expiresAt },
    { 'cache-control': 'no-store', location: `/api/tenants/${grant.tenantId}/mailbox-grants/${grant.id}` },
  );
}

export async function listMailboxGrants(deps: GrantDeps, request: HttpRequestLike): Promise<HttpReply> {
  const { top, continuationToken } = readQuery<{ top?: number; continuationToken?: string }>(
    mailboxGrantRoutes.listMailboxGrants,
    request,
  );
  const { tenantId } = readPath<{ tenantId: string }>(mailboxGrantRoutes.listMailboxGrants, request);
  const page = await deps.grants.list(tenantId, {
    top: top ?? DEFAULT_PAGE,
    ...(continuationToken ? { continuationToken } : {}),
  });
  const now = deps.now();
  return jsonReply(
    200,
    {
      items: page.items.map((g) => grantView(g, now)),
      ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
    },
    { 'cache-control': 'no-store' },
  );
}

export async function getMailboxGrant(deps: GrantDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(mailboxGrantRoutes.getMailboxGrant, request);
  const { tenantId, grantId } = readPath<{ tenantId: string; grantId: string }>(
    mailboxGrantRoutes.getMailboxGrant,
    request,
  );
  const grant = await deps.grants.get(tenantId, grantId);
  if (!grant) throw notFound(`No mailbox grant ${grantId} in tenant ${tenantId.toLowerCase()}.`);
  return jsonReply(200, grantView(grant, deps.now()), { 'cache-control': 'no-store' });
}

export async function deleteMailboxGrant(
  deps: GrantDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(mailboxGrantRoutes.revokeMailboxGrant, request);
  const { tenantId, grantId } = readPath<{ tenantId: string; grantId: string }>(
    mailboxGrantRoutes.revokeMailboxGrant,
    request,
  );
  const grant = await revokeMailboxGrant(deps, tenantId, grantId, staffActor(staff)).catch(refusal);
  return jsonReply(200, grantView(grant, deps.now()), { 'cache-control': 'no-store' });
}

/** A grant as support sees it: never a code or a token. */
export function grantView(g: MailboxGrant, now: Date) {
  return {
    id: g.id,
    tenantId: g.tenantId,
    applianceId: g.applianceId,
    profiles: g.profiles,
    mailbox: g.mailbox,
    status: effectiveGrantStatus(g, now),
    createdAt: g.createdAt,
    expiresAt: g.expiresAt,
    createdBy: g.createdBy,
    user: g.user,
    error: g.error,
  };
}
