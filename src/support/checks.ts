/**
 * Live checks of one customer tenant (SPEC.md `POST /api/tenants/{tenantId}/check`): what vendor support runs
 * to answer "why doesn't this customer's mail work?", each check with `ok`, `detail` and a `remediation` an
 * admin can follow.
 *
 *   tokens        a fresh app-only token per resource of the tenant's profiles and the broker's own roles
 *   roles         the granted roles against each profile (and the broker's), via proveConsent
 *   organization  name and verified domains from Graph, or why not
 *   mailboxes     optional Graph probes: reachable, no such mailbox, or access denied (and by what)
 *   exchange      for IMAP/POP/SMTP, the Exchange PowerShell with the tenant's real values
 *   ews           for EWS (full_access_as_app), a live EWS request per mailbox: allowed, blocked by the tenant's
 *                 EWS settings (with the allow-list step), or no access to that mailbox
 *   imap/pop/smtp a login per mailbox as the PBX makes it, app-only (src/support/checks-protocols.ts)
 *   grant:…       per mailbox grant, the user's sign-in refreshed and logins with it (src/support/checks-grants.ts)
 *
 * Everything is checked with the app the broker uses for the tenant: its own app where it brought one
 * (`appCredential`, src/credentials/tenant-app.ts routes its tokens there), else the home app. The Exchange
 * values name that app's client id and the object id of that app's enterprise application in the tenant
 * (src/support/exchange-setup.ts `exchangeAppOf`), and a missing consent points to that app's admin consent.
 *
 * A failing dependency fails only the checks that need it. The check records what it saw, as the background
 * re-check does (src/tenants/consent-watch.ts): consent removed → `revoked` at once; consent proven on a revoked
 * tenant → `active` (or `degraded`); Entra ID or Graph unreachable → nothing changes.
 * The checks themselves live by job: tokens and roles in src/support/checks-tokens.ts, organization and
 * mailboxes in src/support/checks-graph.ts, the Exchange setup in src/support/checks-exchange.ts.
 * @module
 */
import type { BundleApps } from '../credentials/bundle-apps.js';
import { EntraRefused, EntraUnavailable, type EntraTokens } from '../adapters/entra/port.js';
import type { ExchangeWebServices, MailProtocol, MailProtocols } from '../adapters/exchange/port.js';
import { protocolChecks, PROTOCOLS, ROLE, withMissingMailboxes } from './checks-protocols.js';
import { grantChecks, MAX_GRANT_CHECKS } from './checks-grants.js';
import type { GrantTokenDeps } from '../grants/grant-tokens.js';
import { effectiveGrantStatus, type MailboxGrant, type MailboxGrantStore } from '../grants/grant-store.js';
import type { Directory } from '../adapters/graph/port.js';
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentSettings } from '../consent/types.js';
import type { OnboardingStore } from '../consent/onboarding-store.js';
import { BROKER_PROFILE, proveConsent, type ProofResult } from '../consent/proof.js';
import type { Profile, Profiles, Resource } from '../profiles/profiles.js';
import { applyProof } from '../tenants/consent-watch.js';
import { RECHECKED_STATUSES } from '../tenants/lifecycle.js';
import { grantsOf, type TenantRecord, type TenantStatus, type TenantStore } from '../tenants/tenant-store.js';
import { ewsChecks, exchangeCheck } from './checks-exchange.js';
import { mailboxCheck, organizationCheck } from './checks-graph.js';
import { roleCheck, roleFindings, tokenCheck, type TokenOutcome } from './checks-tokens.js';
import { CONSENT_MISSING_CODES } from './entra-codes.js';
import {
  exchangeAppOf,
  exchangeBundleApp,
  exchangeNeeds,
  organizationFor,
  resolveServicePrincipal,
  type ExchangeSetupValues,
  type ResolvedServicePrincipal,
} from './exchange-setup.js';
import { GRAPH_APP_ID } from '../ids.js';

export interface CheckDeps {
  readonly entra: EntraTokens;
  readonly graph: Directory;
  /** Exchange Web Services, probed with the tenant's Exchange Online token (src/support/checks-exchange.ts). */
  readonly ews: ExchangeWebServices;
  /** Exchange Online's IMAP, POP and SMTP, logged in to as the PBX would (src/support/checks-protocols.ts). */
  readonly mail: MailProtocols;
  readonly profiles: Profiles;
  /** The bundles' apps (src/credentials/bundle-apps.ts). */
  readonly apps: BundleApps;
  readonly tenants: TenantStore;
  /** The tenant's mailbox grants, and what redeems their users' sign-ins (src/support/checks-grants.ts). */
  readonly mailboxGrants: MailboxGrantStore;
  readonly grantSignIns: GrantTokenDeps;
  readonly onboardings: OnboardingStore;
  readonly audit: AuditLog;
  readonly settings: ConsentSettings;
  readonly now: () => Date;
  /** The token endpoint's in-memory copies of tenants and tokens: dropped when the check changes the status. */
  readonly directory: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
  readonly tokens: { forgetTenant(tenantId: string): void };
}

export interface Check {
  readonly name: string;
  /** null: not checked (e.g. the EWS probe without a mailbox), the detail says why. */
  readonly ok: boolean | null;
  readonly detail: string;
  /** What to do; null when there is nothing to do. */
  readonly remediation: string | null;
}

export interface CheckReport {
  readonly tenantId: string;
  readonly checkedAt: string;
  /** The tenant's status after the check. */
  readonly status: TenantStatus;
  readonly checks: readonly Check[];
}

/** No tenant with that id is recorded. */
export class UnknownTenant extends Error {
  constructor(readonly tenantId: string) {
    super(`No tenant ${tenantId} is known to the broker.`);
    this.name = new.target.name;
  }
}

/** A grant asked for is not one of the tenant's. */
export class UnknownGrant extends Error {
  constructor(
    readonly tenantId: string,
    readonly grantId: string,
  ) {
    super(`No mailbox grant ${grantId} in tenant ${tenantId}.`);
    this.name = new.target.name;
  }
}

/** Runs every check of `tenantId` now; `mailboxes` are validated addresses (src/support/mailbox-address.ts). */
export async function checkTenant(
  deps: CheckDeps,
  tenantId: string,
  request: {
    readonly mailboxes: readonly string[];
    /** Logins to make per mailbox (src/support/checks-protocols.ts); default: those of the tenant's profiles. */
    readonly protocols?: readonly ('imap' | 'pop' | 'smtp' | 'ews')[];
    /** Mailbox grants to check (ids); default: the first MAX_GRANT_CHECKS active or reauth_required ones. */
    readonly grants?: readonly string[];
    readonly actor: AuditActor;
    /**
     * Whether the check may create a consent link (an onboarding) for its remediations: only for Broker.Admin,
     * since creating onboardings is a change (SPEC.md `POST /api/onboardings`); Broker.Read gets the advice
     * without a link.
     */
    readonly consentLinks: boolean;
  },
): Promise<CheckReport> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new UnknownTenant(tenantId.toLowerCase());
  const id = tenant.tenantId;
  // Grants first: an unknown one is refused before anything is asked or recorded.
  const grants = await grantsToCheck(deps, id, request.grants);
  const checkedAt = deps.now();
  const profiles = tenantProfiles(deps.profiles, tenant);
  // Each app of the tenant's bundles, asked for what the proof reads with it: its profiles' resources and the
  // broker's own roles' (src/consent/proof.ts). One app, one token per resource, as before bundles.
  const needed = deps.apps.forProfiles(profiles.map((p) => p.name));
  const apps = needed.length ? needed : [deps.apps.home];
  const several = apps.length > 1;
  const asks: { app: (typeof apps)[number]; resource: Resource }[] = [];
  for (const app of apps) {
    const own = new Map<string, Resource>();
    for (const p of profiles)
      if (p.kind === 'application' && app.bundle.profiles.includes(p)) own.set(p.resource.scope, p.resource);
    for (const r of deps.profiles.brokerRoles) own.set(r.resource.scope, r.resource);
    for (const resource of own.values()) asks.push({ app, resource });
  }
  const resources = new Map(asks.map((a) => [a.resource.scope, a.resource]));
  const key = (app: string, scope: string) => `${app} ${scope}`;
  // The app serving a profile (the broker's own roles: the first app, as the proof reads them).
  const appOfProfile = (name: string) =>
    name === BROKER_PROFILE ? apps[0]!.clientId : deps.apps.forProfile(name).clientId;

  // Tokens: fresh (a live check never answers from cache), one per app and resource, at once.
  const outcomes = new Map<string, TokenOutcome>(
    await Promise.all(
      asks.map(async ({ app, resource }): Promise<[string, TokenOutcome]> => [
        key(app.clientId, resource.scope),
        await acquire(deps, id, resource, app.clientId),
      ]),
    ),
  );
  // The token of the app serving the first of the tenant's profiles that matches, for a resource.
  const outcomeFor = (resource: Resource | undefined, profile?: Profile) =>
    resource
      ? outcomes.get(key(profile ? appOfProfile(profile.name) : apps[0]!.clientId, resource.scope))
      : undefined;
  const refusalCodes = [...outcomes.values()].map((o) =>
    !o.ok && o.error instanceof EntraRefused ? (o.error.aadsts ?? '') : undefined,
  );
  const consentMissing =
    refusalCodes.length > 0 && refusalCodes.every((c) => c !== undefined && CONSENT_MISSING_CODES.has(c));

  // Roles: proveConsent reads them from the tokens just acquired (replayed, not fetched again) and the
  // organization from Graph (memoised, so that the organization check reports the very same answer).
  const organization = memo(() => deps.graph.organization(id));
  const proof = await proveConsent(
    {
      entra: replayTokens(outcomes, deps.apps.home.clientId),
      graph: { ...deps.graph, organization: () => organization() },
      profiles: deps.profiles,
      apps: deps.apps,
    },
    id,
    profiles.map((p) => p.name),
  );
  const roles = roleFindings(deps.profiles, profiles, proof, {
    appOf: appOfProfile,
    outcome: (app, scope) => outcomes.get(key(app, scope)),
  });
  const anyConsentRefusal = refusalCodes.some((c) => c !== undefined && CONSENT_MISSING_CODES.has(c));
  // The app whose service principal Exchange must know: that of the tenant's first profile with Exchange roles.
  const exchangeProfile = profiles.find((p) => p.roles.some((r) => Object.values(ROLE).includes(r.value)));
  const exchangeApp = exchangeBundleApp(deps.apps, profiles);
  const app = exchangeAppOf(tenant, exchangeApp.clientId);

  // One fresh consent link for every remediation that needs it (SPEC.md `POST /api/onboardings`). A consent
  // link is for the home app: a tenant on its own app is pointed to that app's admin consent instead.
  const reconsent =
    !app.ownApp && request.consentLinks && (anyConsentRefusal || roles.some((f) => f.missing?.length))
      ? await createOnboarding(
          deps,
          {
            customerRef: tenant.customerRefs[0] ?? `tenant-${id}`,
            applianceId: null,
            profiles: profiles.map((p) => p.name),
          },
          request.actor,
        )
      : undefined;
  const consentUrl = app.ownApp
    ? ownAppConsentUrl(deps.settings.entraAuthorityHost, id, app.appId)
    : (reconsent?.consentUrl ?? null);

  const graphResource = [...resources.values()].find((r) => r.appId === GRAPH_APP_ID);
  // Graph with any app that got a token for it (each lists Organization.Read.All).
  const graphOutcome = graphResource
    ? (apps.map((a) => outcomes.get(key(a.clientId, graphResource.scope))).find((o) => o?.ok) ??
      outcomes.get(key(apps[0]!.clientId, graphResource.scope)))
    : undefined;
  const graphToken = graphOutcome?.ok ? graphOutcome.token : undefined;
  const needs = exchangeNeeds(profiles);
  // The Exchange app's own token carries its service principal (`oid`).
  const anyToken = [...outcomes]
    .filter(([k]) => k.startsWith(`${exchangeApp.clientId} `))
    .map(([, o]) => o)
    .find((o) => o.ok)?.token;
  const wantServicePrincipal = needs.mailboxAccess || request.mailboxes.length > 0;

  const [orgCheck, servicePrincipal] = await Promise.all([
    organizationCheck(graphResource, graphToken, organization, consentUrl),
    wantServicePrincipal && !consentMissing
      ? resolveServicePrincipal(
          deps.graph,
          {
            tenantId: id,
            servicePrincipalId:
              anyToken?.servicePrincipalId ?? grantsOf(tenant, exchangeApp)?.servicePrincipalId ?? null,
          },
          app.appId,
        )
      : Promise.resolve<ResolvedServicePrincipal>({ found: false, reason: 'not_consented' }),
  ]);
  const org = orgCheck.organization;
  const setup: ExchangeSetupValues | undefined = servicePrincipal.found
    ? {
        tenantId: id,
        tenantName: org?.displayName ?? tenant.displayName,
        organization: organizationFor(
          id,
          org?.verifiedDomains ?? tenant.verifiedDomains.map((name) => ({ name })),
        ),
        appId: app.appId,
        servicePrincipalId: servicePrincipal.id,
        servicePrincipalName: servicePrincipal.displayName ?? app.label,
        mailboxes: request.mailboxes,
        needs,
        exchangeEnvironment: deps.settings.cloud.exchangeEnvironmentName,
      }
    : undefined;

  // EWS: with the token of the resource whose profile holds full_access_as_app.
  const ewsProfile = profiles.find((p) => p.roles.some((r) => r.value === 'full_access_as_app'));
  const ewsResource = ewsProfile?.resource;
  // The logins the PBX will make: asked for, or those of the tenant's profiles (needs.protocols: IMAP, POP, SMTP).
  const asked = request.protocols;
  const logins = (asked ?? needs.protocols.map((p) => p.toLowerCase())).filter((p): p is MailProtocol =>
    (PROTOCOLS as readonly string[]).includes(p),
  );
  const exchangeResource = exchangeProfile?.resource;
  const [mailboxChecks, ewsItems, loginChecks, grantItems] = await Promise.all([
    Promise.all(request.mailboxes.map((m) => mailboxCheck(deps, id, m, graphToken, setup, consentUrl))),
    (asked ? asked.includes('ews') : needs.ews) && ewsResource
      ? ewsChecks(
          deps.ews,
          ewsResource,
          outcomeFor(ewsResource, ewsProfile),
          request.mailboxes,
          exchangeAppOf(tenant, deps.apps.forProfile(ewsProfile!.name).clientId),
          setup,
        )
      : Promise.resolve([]),
    request.mailboxes.length > 0 && logins.length > 0
      ? protocolChecks(deps.mail, {
          protocols: logins,
          mailboxes: request.mailboxes,
          exchangeToken: outcomeFor(exchangeResource, exchangeProfile),
          setup,
          consentUrl,
        })
      : Promise.resolve([]),
    grantChecks(
      { signIns: deps.grantSignIns, mail: deps.mail, profiles: deps.profiles, now: deps.now },
      grants,
      asked,
    ),
  ]);

  const checks: Check[] = [
    ...asks.map(({ app, resource }) =>
      tokenCheck(
        resource,
        outcomes.get(key(app.clientId, resource.scope))!,
        consentUrl,
        several ? app.bundle.name : undefined,
      ),
    ),
    ...roles.map((f) => roleCheck(f, consentUrl)),
    orgCheck.check,
    ...mailboxChecks,
    ...(needs.mailboxAccess
      ? [exchangeCheck(needs.protocols, app, servicePrincipal, setup, consentUrl)]
      : []),
    ...ewsItems,
    ...withMissingMailboxes(
      loginChecks,
      new Set(
        mailboxChecks.filter((c) => c.cause === 'noMailbox').map((c) => c.name.slice('mailbox:'.length)),
      ),
    ),
    ...grantItems,
  ];

  const status = await recordOutcome(deps, tenant, proof, request.actor);
  await deps.audit.write({
    action: 'tenant.checked',
    tenantId: id,
    actor: request.actor,
    details: {
      statusBefore: tenant.status,
      statusAfter: status,
      ok: checks.filter((c) => c.ok === true).length,
      failed: checks.filter((c) => c.ok === false).map((c) => c.name),
      mailboxes: request.mailboxes.length,
      grants: grants.length,
      reconsentOnboardingId: reconsent?.onboarding.id ?? null,
    },
  });
  return { tenantId: id, checkedAt: checkedAt.toISOString(), status, checks };
}

/**
 * Tenant-wide admin consent to a tenant's own app: "https://login.microsoftonline.com/{tenant-id}/adminconsent?
 * client_id={client-id}" (E-GRANT, "Construct the URL for granting tenant-wide admin consent",
 * https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent), on the broker's authority host.
 */
export function ownAppConsentUrl(authorityHost: string, tenantId: string, clientId: string): string {
  const url = new URL(`${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/adminconsent`);
  url.searchParams.set('client_id', clientId);
  return url.toString();
}

async function grantsToCheck(
  deps: CheckDeps,
  tenantId: string,
  ids: readonly string[] | undefined,
): Promise<MailboxGrant[]> {
  if (ids)
    return Promise.all(
      ids.map(async (grantId) => {
        const grant = await deps.mailboxGrants.get(tenantId, grantId.toLowerCase());
        if (!grant) throw new UnknownGrant(tenantId, grantId.toLowerCase());
        return grant;
      }),
    );
  const now = deps.now();
  const page = await deps.mailboxGrants.list(tenantId, { top: 100 });
  return page.items
    .filter((g) => ['active', 'reauth_required'].includes(effectiveGrantStatus(g, now)))
    .slice(0, MAX_GRANT_CHECKS);
}

/** The tenant's profiles as configured now (all of them for a tenant that recorded none). */
export function tenantProfiles(all: Profiles, tenant: TenantRecord): Profile[] {
  const named = tenant.profiles.map((n) => all.get(n)).filter((p) => p !== undefined);
  return named.length ? named : [...all.profiles.values()];
}

async function acquire(
  deps: CheckDeps,
  tenantId: string,
  resource: Resource,
  app: string,
): Promise<TokenOutcome> {
  try {
    return {
      ok: true,
      token: await deps.entra.acquireAppToken(tenantId, resource.scope, { fresh: true, app }),
    };
  } catch (err) {
    if (err instanceof EntraRefused || err instanceof EntraUnavailable) return { ok: false, error: err };
    throw err;
  }
}

/** EntraTokens answering from outcomes already had (by app and scope): proveConsent then fetches nothing twice. */
function replayTokens(outcomes: ReadonlyMap<string, TokenOutcome>, home: string): EntraTokens {
  return {
    acquireAppToken(_tenantId, scope, options) {
      const o = outcomes.get(`${options?.app ?? home} ${scope}`);
      if (!o) return Promise.reject(new EntraUnavailable(5, `No token was acquired for ${scope}`));
      return o.ok ? Promise.resolve(o.token) : Promise.reject(o.error);
    },
  };
}

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
// ------------------------------------------------------------------------------------------- outcome

/**
 * Records what the check saw exactly as the background re-check does (src/tenants/consent-watch.ts
 * `applyProof`, the lifecycle's `recheck-*` rules: consent removed → `revoked`, proven again →
 * `active`/`degraded`, tokens and cached copies dropped, audited), conditionally on the record read; when
 * another writer got there first, once more on a fresh read. Only tenants in RECHECKED_STATUSES: one still
 * being verified, or offboarded, is left to its own process.
 */
async function recordOutcome(
  deps: CheckDeps,
  first: TenantRecord,
  proof: ProofResult,
  actor: AuditActor,
): Promise<TenantStatus> {
  let tenant: TenantRecord | undefined = first;
  for (let attempt = 0; tenant && RECHECKED_STATUSES.includes(tenant.status); attempt++) {
    try {
      return (await applyProof(deps, tenant, proof, actor)).status;
    } catch (err) {
      if (!(err instanceof RowChanged) || attempt > 0) throw err;
      tenant = await deps.tenants.get(first.tenantId);
    }
  }
  return tenant?.status ?? first.status;
}
