/**
 * The support API's tenant routes (SPEC.md "Vendor support"): list, read and offboard tenants. The edge they
 * share with the other staff routes (authentication, problem+json) is src/http/edge.ts.
 * @module
 */
import type { ApplianceStore } from '../appliances/appliance-store.js';
import type { Profiles } from '../profiles/profiles.js';
import { offboardTenant, type OffboardDeps } from '../offboarding/offboard-tenant.js';
import { staffActor, type StaffAuthenticator, type StaffPrincipal } from '../support/staff-auth.js';
import type { BundleApps } from '../credentials/bundle-apps.js';
import { grantsOf, type TenantRecord, type TenantStatus, type TenantStore } from '../tenants/tenant-store.js';
import { assertKnownProfile } from './edge.js';
import { badRequest, notFound } from './problem.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { PAGE_SIZE } from './routes/limits.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { tenantRoutes } from './routes/support.js';

export interface SupportDeps {
  readonly staffAuth: StaffAuthenticator;
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly profiles: Profiles;
  /** The bundles' apps: a deployment of several shows each one's grants (`bundles`). */
  readonly apps?: Pick<BundleApps, 'all'>;
}

/** `GET /api/tenants` */
export async function listTenants(deps: SupportDeps, request: HttpRequestLike): Promise<HttpReply> {
  // Names, status, customerRef and domain formats, page size, continuation token: the declaration's query
  // (src/http/routes/support.ts), checked by readQuery.
  const { status, customerRef, domain, profile, top, continuationToken } = readQuery<{
    status?: TenantStatus;
    customerRef?: string;
    domain?: string;
    profile?: string;
    top?: number;
    continuationToken?: string;
  }>(tenantRoutes.listTenants, request);
  if (customerRef !== undefined && domain !== undefined)
    throw badRequest('Filter by customerRef or by domain, not both.');
  if (profile !== undefined) assertKnownProfile(deps.profiles, profile);
  const page = await deps.tenants.list({
    status,
    ...(profile !== undefined ? { profile } : {}),
    ...(customerRef !== undefined ? { customerRef } : {}),
    ...(domain !== undefined ? { domain } : {}),
    top: top ?? PAGE_SIZE.default,
    continuationToken,
  });
  const items = page.items.map((t) => tenantView(t, deps.apps));
  return jsonReply(
    200,
    page.continuationToken ? { items, continuationToken: page.continuationToken } : { items },
    { 'cache-control': 'no-store' },
  );
}

/** `GET /api/tenants/{tenantId}` */
export async function getTenant(deps: SupportDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(tenantRoutes.getTenant, request);
  const { tenantId } = readPath<{ tenantId: string }>(tenantRoutes.getTenant, request);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  const appliances = await deps.appliances.list({ tenantId: tenant.tenantId, top: 100 });
  return jsonReply(
    200,
    {
      ...tenantView(tenant, deps.apps),
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

/**
 * A tenant as the support API lists it; `GET /api/tenants/{tenantId}` adds its appliances (SPEC.md). With several
 * bundles (`apps`), also what each bundle's app was granted (`bundles`, the apps the tenant consented to).
 */
export function tenantView(t: TenantRecord, apps?: Pick<BundleApps, 'all'>) {
  const bundles =
    apps && apps.all.length > 1
      ? apps.all.flatMap((app) => {
          const grants = grantsOf(t, app);
          return grants
            ? [
                {
                  bundle: app.bundle.name,
                  clientId: app.clientId,
                  grantedRoles: grants.grantedRoles,
                  servicePrincipalId: grants.servicePrincipalId,
                },
              ]
            : [];
        })
      : undefined;
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
    ...(bundles ? { bundles } : {}),
  };
}

/** `DELETE /api/tenants/{tenantId}` (Broker.Admin): offboard; the tombstone stays visible. */
export async function deleteTenant(
  deps: SupportDeps & OffboardDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(tenantRoutes.offboardTenant, request);
  const { tenantId } = readPath<{ tenantId: string }>(tenantRoutes.offboardTenant, request);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  // An offboarded tenant is offboarded again, not skipped: a retry after a failure part-way (a journal entry
  // not written, a secret not deleted) completes it, and announces every change again.
  const tombstone = await offboardTenant(deps, tenant, staffActor(staff));
  return jsonReply(200, tenantView(tombstone), { 'cache-control': 'no-store' });
}
