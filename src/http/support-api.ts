/**
 * The support API's HTTP edge (SPEC.md "Vendor support"): authenticate the staff token for the route's
 * role, parse the query strictly, call the domain, render problem+json. Framework-free: the Functions
 * HttpRequest satisfies HttpRequestLike.
 * @module
 */
import { InvalidContinuationToken } from '../adapters/tables/port.js';
import { outageOf } from './outage.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import { offboardTenant, type OffboardDeps } from '../offboarding/offboard-tenant.js';
import {
  StaffAuthError,
  type StaffAuthenticator,
  type StaffPrincipal,
  type StaffRole,
} from '../support/staff-auth.js';
import type { TenantRecord, TenantStatus, TenantStore } from '../tenants/tenant-store.js';
import type { Logger } from './logger.js';
import { badRequest, notFound, Problem, problemReply, serviceUnavailable, toProblem } from './problem.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { PAGE_SIZE } from './routes/limits.js';
import { readQuery } from './routes/query.js';
import { tenantRoutes } from './routes/support.js';
import { GUID } from '../ids.js';

/** The query helper the other *-api.ts files import from here (src/http/routes/query.ts). */
export { strictQuery } from './routes/query.js';

export interface SupportDeps {
  readonly staffAuth: StaffAuthenticator;
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
}

type SupportAction = (principal: StaffPrincipal) => Promise<HttpReply>;

/** Runs `action` for a caller holding `role`; every failure becomes problem+json. */
export async function asStaff(
  deps: SupportDeps,
  request: HttpRequestLike,
  role: StaffRole,
  log: Logger,
  action: SupportAction,
): Promise<HttpReply> {
  try {
    const principal = await authenticate(deps.staffAuth, request, role);
    return await action(principal);
  } catch (err) {
    const problem = fromDomainError(err);
    if (problem.status >= 500)
      log.error(
        `support API ${request.method} ${new URL(request.url).pathname} failed:`,
        err instanceof Error ? err.name : 'error',
      );
    return problemReply(problem);
  }
}

async function authenticate(
  auth: StaffAuthenticator,
  request: HttpRequestLike,
  role: StaffRole,
): Promise<StaffPrincipal> {
  try {
    return await auth.authenticate(request.headers.get('authorization'), role);
  } catch (err) {
    if (!(err instanceof StaffAuthError)) throw err;
    // RFC 6750 §3: WWW-Authenticate on 401, error="insufficient_scope" with 403.
    const realm = 'realm="consent-broker"';
    switch (err.failure) {
      case 'missing':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}` },
        });
      case 'malformed':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="invalid_request"` },
        });
      case 'invalid':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="invalid_token"` },
        });
      case 'forbidden':
        throw new Problem({
          status: 403,
          title: 'Forbidden',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="insufficient_scope"` },
        });
      case 'unavailable':
        throw serviceUnavailable(
          'The identity provider cannot be reached to check the token; try again shortly.',
          10,
        );
    }
  }
}

function fromDomainError(err: unknown): Problem {
  const outage = outageOf(err);
  if (outage)
    return serviceUnavailable(
      `${outage.service} is unavailable; try again shortly.`,
      outage.retryAfterSeconds,
    );
  if (err instanceof InvalidContinuationToken)
    return badRequest('continuationToken is not one this API issued.');
  return toProblem(err);
}

/** The `{tenantId}` of a route, lower-cased; 400 when it is not a GUID. */
export function tenantIdParam(request: HttpRequestLike): string {
  const tenantId = request.params.tenantId ?? '';
  if (!GUID.test(tenantId)) throw badRequest('tenantId must be a GUID.');
  return tenantId.toLowerCase();
}

/** `GET /api/tenants` */
export async function listTenants(deps: SupportDeps, request: HttpRequestLike): Promise<HttpReply> {
  // Names, status, customerRef and domain formats, page size, continuation token: the declaration's query
  // (src/http/routes/support.ts), checked by readQuery.
  const { status, customerRef, domain, top, continuationToken } = readQuery<{
    status?: TenantStatus;
    customerRef?: string;
    domain?: string;
    top?: number;
    continuationToken?: string;
  }>(tenantRoutes.listTenants, request);
  if (customerRef !== undefined && domain !== undefined)
    throw badRequest('Filter by customerRef or by domain, not both.');
  const page = await deps.tenants.list({
    status,
    ...(customerRef !== undefined ? { customerRef } : {}),
    ...(domain !== undefined ? { domain } : {}),
    top: top ?? PAGE_SIZE.default,
    continuationToken,
  });
  const items = page.items.map(tenantView);
  return jsonReply(
    200,
    page.continuationToken ? { items, continuationToken: page.continuationToken } : { items },
    { 'cache-control': 'no-store' },
  );
}

/** `GET /api/tenants/{tenantId}` */
export async function getTenant(deps: SupportDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(tenantRoutes.getTenant, request);
  const tenantId = tenantIdParam(request);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  const appliances = await deps.appliances.list({ tenantId: tenant.tenantId, top: 100 });
  return jsonReply(
    200,
    {
      ...tenantView(tenant),
      appliances: appliances.items.map((a) => ({
        clientId: a.clientId,
        status: a.status,
        lastSeenAt: a.lastSeenAt,
        tokenCount: a.tokenCount,
      })),
    },
    { 'cache-control': 'no-store' },
  );
}

/** A tenant as the support API lists it; `GET /api/tenants/{tenantId}` adds its appliances (SPEC.md). */
export function tenantView(t: TenantRecord) {
  return {
    tenantId: t.tenantId,
    status: t.status,
    displayName: t.displayName,
    verifiedDomains: t.verifiedDomains,
    customerRefs: t.customerRefs,
    consentedAt: t.consentedAt,
    consentedBy: t.consentedBy,
    profiles: t.profiles,
    grantedRoles: t.grantedRoles,
    missingRoles: t.missingRoles,
    servicePrincipalId: t.servicePrincipalId,
    verification: t.verification
      ? {
          since: t.verification.since,
          attempts: t.verification.attempts,
          nextCheckAt: t.verification.nextCheckAt,
        }
      : null,
    lastTokenAt: t.lastTokenAt,
    lastError: t.lastError,
    appCredential: t.appCredential ?? null,
  };
}

/** `DELETE /api/tenants/{tenantId}` (Broker.Admin): offboard; the tombstone stays visible. */
export async function deleteTenant(
  deps: SupportDeps & OffboardDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(tenantRoutes.offboardTenant, request);
  const tenantId = tenantIdParam(request);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  // An offboarded tenant is offboarded again, not skipped: a retry after a failure part-way (a journal entry
  // not written, a secret not deleted) completes it, and announces every change again.
  const tombstone = await offboardTenant(deps, tenant, {
    kind: 'staff',
    id: staff.objectId,
    name: staff.displayName,
  });
  return jsonReply(200, tenantView(tombstone), { 'cache-control': 'no-store' });
}
