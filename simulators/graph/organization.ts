/**
 * `GET /v1.0/organization`: the caller's tenant as a one-element collection (FACTS.md §7;
 * microsoft-graph-docs-contrib `api-reference/v1.0/api/organization-list.md`, `resources/verifieddomain.md`).
 * @module
 */
import type { SimRoute } from '../common/server.js';
import { json } from '../common/server.js';
import type { SimTenant } from '../common/world.js';
import type { SimContext } from '../context.js';
import { authenticate, requireDirectoryRole } from './auth.js';
import { graphRoute } from './errors.js';
import { assertQueryOptions, odataContext, project, selected } from './odata.js';

/**
 * Application permissions, least privileged first. microsoft-graph-docs-contrib `organization-get.md` (beta, and
 * the v1.0 translations) lists Organization.Read.All first; an older v1.0 `organization-list.md` lists only
 * Directory.Read.All/ReadWrite.All. We accept all four.
 */
export const ORGANIZATION_READ_ROLES = [
  'Organization.Read.All',
  'Directory.Read.All',
  'Organization.ReadWrite.All',
  'Directory.ReadWrite.All',
] as const;

const PROPERTIES = [
  'id',
  'deletedDateTime',
  'displayName',
  'tenantType',
  'countryLetterCode',
  'preferredLanguage',
  'verifiedDomains',
] as const;

export function organizationRoutes(ctx: SimContext): SimRoute[] {
  return [
    graphRoute('GET', '/v1.0/organization', async (req) => {
      const caller = await authenticate(ctx, req);
      requireDirectoryRole(caller, ORGANIZATION_READ_ROLES);
      assertQueryOptions(req.url, ['$select']);
      const select = selected(req.url, 'organization', PROPERTIES);
      return json(200, {
        '@odata.context': odataContext(ctx.urls.graph, 'organization', select, false),
        value: [project(toOrganization(caller.tenant), select)],
      });
    }),
  ];
}

function toOrganization(tenant: SimTenant) {
  return {
    id: tenant.id,
    deletedDateTime: null,
    displayName: tenant.displayName,
    tenantType: 'AAD',
    countryLetterCode: 'US',
    preferredLanguage: 'en',
    // verifieddomain.md: capabilities is a comma-separated string; type "Managed" or "Federated".
    verifiedDomains: tenant.domains.map((d) => ({
      capabilities: tenant.hasExchangeOnline ? 'Email, OfficeCommunicationsOnline' : 'None',
      isDefault: d.isDefault,
      isInitial: d.isInitial,
      name: d.name,
      type: 'Managed',
    })),
  };
}
