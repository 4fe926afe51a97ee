/**
 * Service principals (enterprise applications) of the caller's tenant, and the app role assignments granted to
 * them (FACTS.md §7; microsoft-graph-docs-contrib `serviceprincipal-get.md`,
 * `serviceprincipal-list-approleassignments.md`):
 *
 *   GET /v1.0/servicePrincipals?$filter=appId eq '{appId}'
 *   GET /v1.0/servicePrincipals(appId='{appId}')          (dispatched from index.ts: one path segment)
 *   GET /v1.0/servicePrincipals/{id}
 *   GET /v1.0/servicePrincipals/{id}/appRoleAssignments   (and the appId-keyed form)
 *
 * Every tenant has the first-party resources' service principals (Microsoft Graph, Key Vault, and Exchange Online
 * where provisioned), with tenant-specific object ids; an app's own service principal exists once it is consented
 * to (or homed) there.
 * @module
 */
import { createHash } from 'node:crypto';
import type { SimRequest, SimResponse, SimRoute } from '../common/server.js';
import { json } from '../common/server.js';
import { EXCHANGE_APP_ID, firstPartyResources, type SimAppRole } from '../common/well-known.js';
import type { SimTenant } from '../common/world.js';
import type { SimContext } from '../context.js';
import { authenticate, requireDirectoryRole, type GraphCaller } from './auth.js';
import { GraphFailure, graphRoute } from './errors.js';
import { appIdFilter, assertQueryOptions, odataContext, project, selected } from './odata.js';

/** serviceprincipal-get.md, Application permissions, least privileged first. */
export const SERVICE_PRINCIPAL_READ_ROLES = [
  'Application.Read.All',
  'Application.ReadWrite.OwnedBy',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
] as const;

/** serviceprincipal-list-approleassignments.md, Application permissions. */
export const APP_ROLE_ASSIGNMENT_READ_ROLES = [
  'Application.Read.All',
  'Directory.Read.All',
  'Application.ReadWrite.All',
  'Directory.ReadWrite.All',
] as const;

/**
 * The tenant that owns Microsoft's first-party apps, as `appOwnerOrganizationId` shows it (**unverified**: seen in
 * public tenant dumps, not in the docs read).
 */
const MICROSOFT_SERVICES_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

const PROPERTIES = [
  'id',
  'deletedDateTime',
  'accountEnabled',
  'appDisplayName',
  'appId',
  'appOwnerOrganizationId',
  'appRoleAssignmentRequired',
  'appRoles',
  'displayName',
  'servicePrincipalNames',
  'servicePrincipalType',
  'signInAudience',
  'tags',
  'verifiedPublisher',
] as const;

interface SpView {
  readonly id: string;
  readonly appId: string;
  readonly displayName: string;
  readonly appDisplayName: string;
  readonly accountEnabled: boolean;
  readonly appOwnerOrganizationId: string;
  readonly appRoles: readonly SimAppRole[];
  readonly servicePrincipalNames: readonly string[];
  readonly signInAudience: string;
  readonly createdAt: number;
  readonly grantedRoles: Readonly<Record<string, readonly string[]>>;
}

/** A deterministic GUID-shaped id, so a first-party SP keeps its object id in a tenant across requests. */
export function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function servicePrincipals(ctx: SimContext, tenant: SimTenant): SpView[] {
  const views: SpView[] = [];
  for (const r of firstPartyResources(ctx.world.cloud)) {
    if (r.appId === EXCHANGE_APP_ID && !tenant.hasExchangeOnline) continue;
    if (tenant.servicePrincipals.some((s) => s.appId === r.appId)) continue;
    views.push({
      id: stableId(tenant.id, r.appId),
      appId: r.appId,
      displayName: r.displayName,
      appDisplayName: r.displayName,
      accountEnabled: true,
      appOwnerOrganizationId: MICROSOFT_SERVICES_TENANT_ID,
      appRoles: r.appRoles,
      servicePrincipalNames: [r.appId, ...r.identifierUris],
      signInAudience: 'AzureADMultipleOrgs',
      createdAt: 0,
      grantedRoles: {},
    });
  }
  for (const sp of tenant.servicePrincipals) {
    const app = ctx.world.apps.get(sp.appId);
    const resource = ctx.world.resources.get(sp.appId);
    views.push({
      id: sp.objectId,
      appId: sp.appId,
      displayName: sp.displayName,
      appDisplayName: app?.displayName ?? sp.displayName,
      accountEnabled: sp.accountEnabled,
      appOwnerOrganizationId: app?.homeTenantId ?? MICROSOFT_SERVICES_TENANT_ID,
      appRoles: app?.appRoles ?? resource?.appRoles ?? [],
      servicePrincipalNames: [sp.appId, ...(app?.identifierUris ?? resource?.identifierUris ?? [])],
      signInAudience: app && !app.multitenant ? 'AzureADMyOrg' : 'AzureADMultipleOrgs',
      createdAt: sp.createdAt,
      grantedRoles: sp.grantedRoles,
    });
  }
  return views;
}

function toServicePrincipal(sp: SpView) {
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: sp.accountEnabled,
    appDisplayName: sp.appDisplayName,
    appId: sp.appId,
    appOwnerOrganizationId: sp.appOwnerOrganizationId,
    appRoleAssignmentRequired: false,
    appRoles: sp.appRoles.map((r) => ({
      allowedMemberTypes: ['Application'],
      description: r.value,
      displayName: r.value,
      id: r.id,
      isEnabled: true,
      origin: 'Application',
      value: r.value,
    })),
    displayName: sp.displayName,
    servicePrincipalNames: sp.servicePrincipalNames,
    servicePrincipalType: 'Application',
    signInAudience: sp.signInAudience,
    tags: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `servicePrincipals(appId='…')`: the alternate-key segment, or undefined when the segment is something else. */
export function appIdKey(segment: string): string | undefined {
  const m = /^servicePrincipals\(appId='((?:[^']|'')*)'\)$/i.exec(segment);
  return m ? m[1]!.replace(/''/g, "'") : undefined;
}

type Key = { readonly by: 'id' | 'appId'; readonly value: string };

/**
 * Finds the addressed SP, enforcing permissions first: "A service principal can retrieve its own application and
 * service principal details without being granted any application permissions" (serviceprincipal-get.md), every
 * other one needs a role from {@link SERVICE_PRINCIPAL_READ_ROLES}.
 */
function resolve(ctx: SimContext, caller: GraphCaller, key: Key, accepted: readonly string[]): SpView {
  if (key.by === 'id' && !GUID.test(key.value))
    // Directory wording as widely quoted (third-party only).
    throw new GraphFailure(400, 'Request_BadRequest', `Invalid object identifier '${key.value}'.`);
  const wanted = key.value.toLowerCase();
  const sp = servicePrincipals(ctx, caller.tenant).find((s) =>
    key.by === 'id' ? s.id.toLowerCase() === wanted : s.appId.toLowerCase() === wanted,
  );
  const own = sp !== undefined && sp.appId === caller.appId;
  if (!own) requireDirectoryRole(caller, accepted);
  if (!sp)
    // Directory "not found" (third-party only; the message names the key as given).
    throw new GraphFailure(
      404,
      'Request_ResourceNotFound',
      `Resource '${key.value}' does not exist or one of its queried reference-property objects are not present.`,
    );
  return sp;
}

export async function getServicePrincipal(ctx: SimContext, req: SimRequest, key: Key): Promise<SimResponse> {
  const caller = await authenticate(ctx, req);
  const sp = resolve(ctx, caller, key, SERVICE_PRINCIPAL_READ_ROLES);
  assertQueryOptions(req.url, ['$select']);
  const select = selected(req.url, 'servicePrincipal', PROPERTIES);
  return json(200, {
    '@odata.context': odataContext(ctx.urls.graph, 'servicePrincipals', select, true),
    ...project(toServicePrincipal(sp), select),
  });
}

export async function listAppRoleAssignments(
  ctx: SimContext,
  req: SimRequest,
  key: Key,
): Promise<SimResponse> {
  const caller = await authenticate(ctx, req);
  // The self-read exemption is documented for the SP itself, not for its assignments: a role is required.
  requireDirectoryRole(caller, APP_ROLE_ASSIGNMENT_READ_ROLES);
  const sp = resolve(ctx, caller, key, APP_ROLE_ASSIGNMENT_READ_ROLES);
  assertQueryOptions(req.url, ['$select', '$top']);
  const all = servicePrincipals(ctx, caller.tenant);
  const value = [];
  for (const [resourceAppId, values] of Object.entries(sp.grantedRoles)) {
    const resource = all.find((s) => s.appId === resourceAppId);
    const known = ctx.world.findResource(resourceAppId);
    const resourceId = resource?.id ?? stableId(caller.tenant.id, resourceAppId);
    for (const roleValue of values) {
      const role = (resource?.appRoles ?? known?.appRoles ?? []).find((r) => r.value === roleValue);
      // An assignment always names a role the resource defines; a value it doesn't define is not assignable.
      if (!role) continue;
      value.push({
        id: createHash('sha256').update(`${sp.id}|${resourceId}|${role.id}`).digest('base64url').slice(0, 43),
        deletedDateTime: null,
        appRoleId: role.id,
        createdDateTime: new Date(sp.createdAt).toISOString(),
        principalDisplayName: sp.displayName,
        principalId: sp.id,
        principalType: 'ServicePrincipal',
        resourceDisplayName: resource?.displayName ?? known?.displayName ?? resourceAppId,
        resourceId,
      });
    }
  }
  return json(200, {
    '@odata.context': odataContext(
      ctx.urls.graph,
      `servicePrincipals('${sp.id}')/appRoleAssignments`,
      undefined,
      false,
    ),
    value,
  });
}

export function servicePrincipalRoutes(ctx: SimContext): SimRoute[] {
  return [
    graphRoute('GET', '/v1.0/servicePrincipals', async (req) => {
      const caller = await authenticate(ctx, req);
      assertQueryOptions(req.url, ['$select', '$filter', '$top']);
      const filter = req.url.searchParams.get('$filter');
      const appId = filter !== null ? appIdFilter(filter, 'servicePrincipal').toLowerCase() : undefined;
      // Listing needs a role; filtering on one's own appId is the self-read of serviceprincipal-get.md
      // (that the exemption extends to the filtered list is **unverified**).
      if (appId !== caller.appId) requireDirectoryRole(caller, SERVICE_PRINCIPAL_READ_ROLES);
      const top = topOf(req.url);
      const select = selected(req.url, 'servicePrincipal', PROPERTIES);
      const value = servicePrincipals(ctx, caller.tenant)
        .filter((s) => appId === undefined || s.appId.toLowerCase() === appId)
        .slice(0, top)
        .map((s) => project(toServicePrincipal(s), select));
      return json(200, {
        '@odata.context': odataContext(ctx.urls.graph, 'servicePrincipals', select, false),
        value,
      });
    }),
    graphRoute('GET', '/v1.0/servicePrincipals/{id}', (req) =>
      getServicePrincipal(ctx, req, { by: 'id', value: req.params.id! }),
    ),
    graphRoute('GET', '/v1.0/servicePrincipals/{id}/appRoleAssignments', (req) =>
      listAppRoleAssignments(ctx, req, { by: 'id', value: req.params.id! }),
    ),
  ];
}

function topOf(url: URL): number {
  const raw = url.searchParams.get('$top');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 999)
    // Wording **unverified**.
    throw new GraphFailure(
      400,
      'Request_BadRequest',
      `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`,
    );
  return n;
}
