/**
 * The live-check routes of the support API (SPEC.md "Vendor support"):
 *
 *   POST /api/tenants/{tenantId}/check               {mailboxes?, protocols?, grants?} → the checks (src/support/checks.ts)
 *   GET  /api/tenants/{tenantId}/exchange-setup.ps1   ?mailboxes=a@x,b@y&scoping=rbac|accessPolicy → the script
 *
 * Steps: strict query, tenant id, body or query, then the domain. Mailbox addresses are validated before anything
 * runs; a refused one is named by its index and never echoed, into the answer or into a script.
 * @module
 */
import type { BundleApps } from '../credentials/bundle-apps.js';
import { grantsOf } from '../tenants/tenant-store.js';
import type { Directory } from '../adapters/graph/port.js';
import type { Profiles } from '../profiles/profiles.js';
import type { ConsentSettings } from '../consent/types.js';
import {
  checkTenant,
  tenantProfiles,
  UnknownGrant,
  UnknownTenant,
  type CheckDeps,
} from '../support/checks.js';
import {
  exchangeAppOf,
  exchangeBundleApp,
  exchangeNeeds,
  exchangeSetupScript,
  isExternalFailure,
  organizationFor,
  resolveServicePrincipal,
  type ExchangeScoping,
} from '../support/exchange-setup.js';
import { MAX_CHECK_MAILBOXES, MAX_SCRIPT_MAILBOXES, parseMailboxList } from '../support/mailbox-address.js';
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound, Problem, serviceUnavailable } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { checkRoutes } from './routes/support.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';

/**
 * `POST /api/tenants/{tenantId}/check`. Broker.Read is enough (functions/checks.ts): the check changes nothing
 * that Microsoft has not already changed — it records what it saw, as the background re-check would. Only for
 * Broker.Admin does it also create the fresh consent link its remediations point to.
 */
export async function postTenantCheck(
  deps: CheckDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(checkRoutes.checkTenant, request);
  const { tenantId } = readPath<{ tenantId: string }>(checkRoutes.checkTenant, request);
  // An array of at most MAX_CHECK_MAILBOXES strings, no other field: the TenantCheckRequest schema
  // (src/http/routes/validation.ts); each address is then parsed as the probes need it.
  const body = await readJsonBody(request, 'TenantCheckRequest', { emptyIsObject: true });
  let mailboxes: readonly string[] = [];
  if (body.mailboxes !== undefined) {
    const parsed = parseMailboxList(body.mailboxes, 'mailboxes', MAX_CHECK_MAILBOXES);
    if (!parsed.ok) throw badRequest(parsed.reason);
    mailboxes = parsed.addresses;
  }
  try {
    const report = await checkTenant(deps, tenantId, {
      mailboxes,
      ...(body.protocols !== undefined ? { protocols: body.protocols } : {}),
      ...(body.grants !== undefined ? { grants: body.grants } : {}),
      actor: staffActor(staff),
      consentLinks: staff.roles.includes('Broker.Admin'),
    });
    return jsonReply(200, report, { 'cache-control': 'no-store' });
  } catch (err) {
    if (err instanceof UnknownTenant || err instanceof UnknownGrant) throw notFound(err.message);
    throw err;
  }
}

export interface ExchangeSetupDeps {
  readonly graph: Directory;
  readonly profiles: Profiles;
  /** The bundles' apps: the script is for the app of the tenant's Exchange profiles (exchangeBundleApp). */
  readonly apps: BundleApps;
  readonly tenants: TenantStore;
  readonly settings: Pick<ConsentSettings, 'cloud' | 'homeAppClientId' | 'publicUrl'>;
  readonly now: () => Date;
}

/** `GET /api/tenants/{tenantId}/exchange-setup.ps1?mailboxes=a@x,b@y&scoping=rbac|accessPolicy` (Broker.Read). */
export async function getExchangeSetupScript(
  deps: ExchangeSetupDeps,
  request: HttpRequestLike,
): Promise<HttpReply> {
  // The name and at most MAX_SCRIPT_MAILBOXES comma-separated values: the declaration's query
  // (src/http/routes/support.ts), checked by readQuery; each address is then parsed for the script.
  const { mailboxes = [], scoping = 'rbac' } = readQuery<{ mailboxes?: string[]; scoping?: ExchangeScoping }>(
    checkRoutes.exchangeSetupScript,
    request,
  );
  const { tenantId } = readPath<{ tenantId: string }>(checkRoutes.exchangeSetupScript, request);
  const parsed = parseMailboxList(
    mailboxes.map((m) => m.trim()),
    'mailboxes',
    MAX_SCRIPT_MAILBOXES,
  );
  if (!parsed.ok) throw badRequest(parsed.reason);

  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  if (tenant.status === 'revoked' || tenant.status === 'offboarded')
    throw new Problem({
      status: 409,
      title: 'Conflict',
      detail: `Tenant ${tenantId} is ${tenant.status}: its enterprise application is gone, so there is nothing to register in Exchange Online. It must consent again first.`,
    });

  // The app the broker uses for this tenant's Exchange profiles: its own where it brought one (exchangeAppOf).
  const profiles = tenantProfiles(deps.profiles, tenant);
  const bundleApp = exchangeBundleApp(deps.apps, profiles);
  const app = exchangeAppOf(tenant, bundleApp.clientId);
  const [sp, org] = await Promise.all([
    resolveServicePrincipal(
      deps.graph,
      {
        tenantId: tenant.tenantId,
        servicePrincipalId: grantsOf(tenant, bundleApp)?.servicePrincipalId ?? null,
      },
      app.appId,
    ),
    deps.graph.organization(tenantId).catch((err: unknown) => {
      // The name and initial domain only improve the script; the recorded domains serve without them.
      if (isExternalFailure(err)) return undefined;
      throw err;
    }),
  ]);
  if (!sp.found) {
    if (sp.reason === 'unreadable')
      throw serviceUnavailable(
        "Microsoft Graph could not be reached to read the enterprise application's object id; try again shortly.",
        10,
      );
    throw new Problem({
      status: 409,
      title: 'Conflict',
      detail: app.ownApp
        ? `The tenant's own application (app id ${app.appId}) has no enterprise application in tenant ${tenantId}: an administrator of the tenant must grant it admin consent first.`
        : `The vendor's enterprise application does not exist in tenant ${tenantId}: it must consent again first.`,
    });
  }
  const script = exchangeSetupScript(
    {
      tenantId,
      tenantName: org?.displayName ?? tenant.displayName,
      organization: organizationFor(
        tenantId,
        org?.verifiedDomains ?? tenant.verifiedDomains.map((name) => ({ name })),
      ),
      appId: app.appId,
      servicePrincipalId: sp.id,
      servicePrincipalName: sp.displayName ?? app.label,
      mailboxes: parsed.addresses,
      needs: exchangeNeeds(profiles),
      exchangeEnvironment: deps.settings.cloud.exchangeEnvironmentName,
    },
    { generatedAt: deps.now(), brokerUrl: deps.settings.publicUrl, scoping },
  );
  return {
    status: 200,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': `attachment; filename="exchange-setup-${tenantId}.ps1"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: script,
  };
}
