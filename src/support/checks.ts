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
 *
 * Everything is checked with the app the broker uses for the tenant: its own app where it brought one
 * (`appCredential`, src/credentials/tenant-app.ts routes its tokens there), else the home app. The Exchange
 * values name that app's client id and the object id of that app's enterprise application in the tenant
 * (src/support/exchange-setup.ts `exchangeAppOf`), and a missing consent points to that app's admin consent.
 *
 * A failing dependency fails only the checks that need it. The check records what it saw, as the background
 * re-check does (src/tenants/consent-watch.ts): consent removed → `revoked` at once; consent proven on a revoked
 * tenant → `active` (or `degraded`); Entra ID or Graph unreachable → nothing changes.
 * @module
 */
import { EntraRefused, EntraUnavailable, type AppToken, type EntraTokens } from '../adapters/entra/port.js';
import {
  GraphRefused,
  GraphUnavailable,
  type Directory,
  type MailboxProbe,
  type Organization,
} from '../adapters/graph/port.js';
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentSettings } from '../consent/types.js';
import type { OnboardingStore } from '../consent/onboarding-store.js';
import { BROKER_PROFILE, proveConsent, type ProofResult } from '../consent/proof.js';
import type { Profile, Profiles, Resource } from '../profiles/profiles.js';
import { applyProof } from '../tenants/consent-watch.js';
import { RECHECKED_STATUSES } from '../tenants/lifecycle.js';
import type { TenantRecord, TenantStatus, TenantStore } from '../tenants/tenant-store.js';
import { CONSENT_MISSING_CODES, explainEntraRefusal } from './entra-codes.js';
import {
  exchangeAppOf,
  exchangeNeeds,
  exchangeSetupCommands,
  isExternalFailure,
  mailboxAccessCommands,
  organizationFor,
  resolveServicePrincipal,
  type ExchangeApp,
  type ExchangeSetupValues,
  type ResolvedServicePrincipal,
} from './exchange-setup.js';
import { GRAPH_APP_ID } from '../ids.js';

/** Application permissions that let the mailbox probe open an inbox (FACTS.md §6.4, §7). */
const MAIL_READ_ROLES = ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'];

export interface CheckDeps {
  readonly entra: EntraTokens;
  readonly graph: Directory;
  readonly profiles: Profiles;
  readonly tenants: TenantStore;
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
  readonly ok: boolean;
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

type TokenOutcome =
  | { readonly ok: true; readonly token: AppToken }
  | { readonly ok: false; readonly error: EntraRefused | EntraUnavailable };

/** Runs every check of `tenantId` now; `mailboxes` are validated addresses (src/support/mailbox-address.ts). */
export async function checkTenant(
  deps: CheckDeps,
  tenantId: string,
  request: {
    readonly mailboxes: readonly string[];
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
  const checkedAt = deps.now();
  const profiles = tenantProfiles(deps.profiles, tenant);
  const resources = new Map<string, Resource>();
  for (const p of profiles) resources.set(p.resource.scope, p.resource);
  for (const r of deps.profiles.brokerRoles) resources.set(r.resource.scope, r.resource);

  // Tokens: fresh (a live check never answers from cache), one per resource, at once.
  const outcomes = new Map<string, TokenOutcome>(
    await Promise.all(
      [...resources.values()].map(async (r): Promise<[string, TokenOutcome]> => [
        r.scope,
        await acquire(deps, id, r),
      ]),
    ),
  );
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
      entra: replayTokens(outcomes),
      graph: { ...deps.graph, organization: () => organization() },
      profiles: deps.profiles,
    },
    id,
    profiles.map((p) => p.name),
  );
  const roles = roleFindings(deps.profiles, profiles, proof, outcomes);
  const anyConsentRefusal = refusalCodes.some((c) => c !== undefined && CONSENT_MISSING_CODES.has(c));
  const app = exchangeAppOf(tenant, deps.settings.homeAppClientId);

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
  const graphOutcome = graphResource ? outcomes.get(graphResource.scope) : undefined;
  const graphToken = graphOutcome?.ok ? graphOutcome.token : undefined;
  const needs = exchangeNeeds(profiles);
  const anyToken = [...outcomes.values()].find((o) => o.ok)?.token;
  const wantServicePrincipal = needs.mailboxAccess || request.mailboxes.length > 0;

  const [orgCheck, servicePrincipal] = await Promise.all([
    organizationCheck(graphResource, graphToken, organization, consentUrl),
    wantServicePrincipal && !consentMissing
      ? resolveServicePrincipal(
          deps.graph,
          { tenantId: id, servicePrincipalId: anyToken?.servicePrincipalId ?? tenant.servicePrincipalId },
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
      }
    : undefined;

  const mailboxChecks = await Promise.all(
    request.mailboxes.map((m) => mailboxCheck(deps, id, m, graphToken, setup, consentUrl)),
  );

  const checks: Check[] = [
    ...[...resources.values()].map((r) => tokenCheck(r, outcomes.get(r.scope)!, consentUrl)),
    ...roles.map((f) => roleCheck(f, consentUrl)),
    orgCheck.check,
    ...mailboxChecks,
    ...(needs.mailboxAccess
      ? [exchangeCheck(needs.protocols, app, servicePrincipal, setup, consentUrl)]
      : []),
  ];

  const status = await recordOutcome(deps, tenant, proof, request.actor);
  await deps.audit.write({
    action: 'tenant.checked',
    tenantId: id,
    actor: request.actor,
    details: {
      statusBefore: tenant.status,
      statusAfter: status,
      ok: checks.filter((c) => c.ok).length,
      failed: checks.filter((c) => !c.ok).map((c) => c.name),
      mailboxes: request.mailboxes.length,
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

/** The tenant's profiles as configured now (all of them for a tenant that recorded none). */
export function tenantProfiles(all: Profiles, tenant: TenantRecord): Profile[] {
  const named = tenant.profiles.map((n) => all.get(n)).filter((p) => p !== undefined);
  return named.length ? named : [...all.profiles.values()];
}

async function acquire(deps: CheckDeps, tenantId: string, resource: Resource): Promise<TokenOutcome> {
  try {
    return { ok: true, token: await deps.entra.acquireAppToken(tenantId, resource.scope, { fresh: true }) };
  } catch (err) {
    if (err instanceof EntraRefused || err instanceof EntraUnavailable) return { ok: false, error: err };
    throw err;
  }
}

/** EntraTokens answering from outcomes already had: proveConsent then fetches nothing twice. */
function replayTokens(outcomes: ReadonlyMap<string, TokenOutcome>): EntraTokens {
  return {
    acquireAppToken(_tenantId, scope) {
      const o = outcomes.get(scope);
      if (!o) return Promise.reject(new EntraUnavailable(5, `No token was acquired for ${scope}`));
      return o.ok ? Promise.resolve(o.token) : Promise.reject(o.error);
    },
  };
}

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

// --------------------------------------------------------------------------------------------- tokens

function tokenCheck(resource: Resource, outcome: TokenOutcome, consentUrl: string | null): Check {
  const name = `token:${resource.key}`;
  if (outcome.ok) {
    const roles = outcome.token.roles.length ? [...outcome.token.roles].sort().join(', ') : 'none';
    return {
      name,
      ok: true,
      detail: `Entra ID issued an app-only token for ${resource.displayName} (${resource.scope}); granted roles: ${roles}.`,
      remediation: null,
    };
  }
  if (outcome.error instanceof EntraUnavailable) {
    return {
      name,
      ok: false,
      detail: `Microsoft Entra ID could not be reached for a ${resource.displayName} token; nothing was concluded about the consent.`,
      remediation: `Try the check again in ${outcome.error.retryAfterSeconds} seconds.`,
    };
  }
  const code = outcome.error.aadsts ? `AADSTS${outcome.error.aadsts}` : outcome.error.error;
  return { name, ok: false, ...explainEntraRefusal(code, resource.displayName, consentUrl) };
}

// ---------------------------------------------------------------------------------------------- roles

interface RoleFinding {
  readonly name: string;
  readonly needed: readonly string[];
  /** Missing role values; undefined when they could not be read (no token for a resource it needs). */
  readonly missing: readonly string[] | undefined;
  /** Granted roles of the profile's resource, for words. */
  readonly granted?: { readonly resource: Resource; readonly roles: readonly string[] };
}

/**
 * Roles against each profile and the broker's own: proveConsent's answer when it proved the consent; otherwise,
 * for each profile whose resources did give a token, the same comparison on those tokens, so that one failing
 * resource does not hide the others.
 */
function roleFindings(
  all: Profiles,
  profiles: readonly Profile[],
  proof: ProofResult,
  outcomes: ReadonlyMap<string, TokenOutcome>,
): RoleFinding[] {
  const targets = [
    ...profiles.map((p) => ({
      name: p.name,
      resource: p.resource as Resource | undefined,
      needs: p.roles.map((r) => ({ scope: p.resource.scope, value: r.value })),
    })),
    ...(all.brokerRoles.length
      ? [
          {
            name: BROKER_PROFILE,
            resource: undefined,
            needs: all.brokerRoles.map((r) => ({ scope: r.resource.scope, value: r.value })),
          },
        ]
      : []),
  ];
  const rolesOf = (scope: string): readonly string[] | undefined => {
    if (proof.kind === 'proven') return proof.grantedRoles[scope] ?? [];
    const o = outcomes.get(scope);
    return o?.ok ? o.token.roles : undefined;
  };
  return targets.map(({ name, resource, needs }) => {
    const needed = needs.map((n) => n.value);
    const granted = resource ? rolesOf(resource.scope) : undefined;
    const grantedFor = resource && granted ? { resource, roles: [...granted].sort() } : undefined;
    if (proof.kind === 'proven')
      return { name, needed, missing: proof.missingRoles[name] ?? [], granted: grantedFor };
    if (needs.some((n) => rolesOf(n.scope) === undefined)) return { name, needed, missing: undefined };
    return {
      name,
      needed,
      missing: needs.filter((n) => !rolesOf(n.scope)!.includes(n.value)).map((n) => n.value),
      granted: grantedFor,
    };
  });
}

function roleCheck(f: RoleFinding, consentUrl: string | null): Check {
  const name = `roles:${f.name}`;
  const what = f.name === BROKER_PROFILE ? 'The broker itself' : `Profile ${f.name}`;
  if (f.missing === undefined)
    return {
      name,
      ok: false,
      detail: `The roles of ${what.charAt(0).toLowerCase()}${what.slice(1)} could not be read: there is no token for its resource (see the token checks).`,
      remediation: 'Fix the failing token check first, then run the check again.',
    };
  if (!f.missing.length)
    return {
      name,
      ok: true,
      detail: `${what} has every role it needs: ${f.needed.join(', ')}.`,
      remediation: null,
    };
  return {
    name,
    ok: false,
    detail: `${what} is missing ${f.missing.join(', ')}${f.granted ? ` (granted for ${f.granted.resource.displayName}: ${f.granted.roles.join(', ') || 'none'})` : ''}.`,
    remediation: consentUrl
      ? `An administrator of the tenant (Global Administrator or Privileged Role Administrator, for Microsoft Graph roles) must open this consent link and approve: ${consentUrl}`
      : 'An administrator of the tenant must consent again.',
  };
}

// -------------------------------------------------------------------------------------- organization

async function organizationCheck(
  graphResource: Resource | undefined,
  graphToken: AppToken | undefined,
  organization: () => Promise<Organization>,
  consentUrl: string | null,
): Promise<{ check: Check; organization?: Organization }> {
  const name = 'organization';
  if (!graphResource)
    return {
      check: { name, ok: false, detail: 'No Microsoft Graph resource is configured.', remediation: null },
    };
  if (!graphToken)
    return {
      check: {
        name,
        ok: false,
        detail: `Not read: there is no Microsoft Graph token (see token:${graphResource.key}).`,
        remediation: 'Fix the Microsoft Graph token check first.',
      },
    };
  if (!graphToken.roles.includes('Organization.Read.All'))
    return {
      check: {
        name,
        ok: false,
        detail:
          'Not read: the vendor application has not been granted Organization.Read.All in Microsoft Graph, which the broker needs to read the tenant name and verified domains.',
        remediation: consentUrl
          ? `A Global Administrator or Privileged Role Administrator must open this consent link and approve: ${consentUrl}`
          : 'A Global Administrator or Privileged Role Administrator must consent again.',
      },
    };
  try {
    const org = await organization();
    const domains = org.verifiedDomains.map((d) => d.name + (d.isDefault ? ' (default)' : ''));
    return {
      organization: org,
      check: {
        name,
        ok: true,
        detail: `${org.displayName}; verified domains: ${domains.join(', ') || 'none'}.`,
        remediation: null,
      },
    };
  } catch (err) {
    if (!isExternalFailure(err)) throw err;
    return { check: { name, ...graphFailure(err, 'the organization') } };
  }
}

/** A Graph (or Graph token) failure as a failed check's detail and remediation. */
function graphFailure(err: unknown, what: string): Pick<Check, 'ok' | 'detail' | 'remediation'> {
  if (err instanceof GraphRefused)
    return {
      ok: false,
      detail: `Microsoft Graph refused to read ${what}: ${err.status} ${err.code}.`,
      remediation: 'Give the vendor this code if it persists.',
    };
  if (err instanceof EntraRefused)
    return {
      ok: false,
      detail: `No Microsoft Graph token to read ${what}: Entra ID refused (${err.aadsts ? `AADSTS${err.aadsts}` : err.error}).`,
      remediation: 'See the token checks.',
    };
  const retry =
    err instanceof GraphUnavailable || err instanceof EntraUnavailable ? err.retryAfterSeconds : 5;
  return {
    ok: false,
    detail: `Microsoft Graph (or Entra ID, for its token) could not be reached to read ${what}.`,
    remediation: `Try the check again in ${retry} seconds.`,
  };
}

// ------------------------------------------------------------------------------------------ mailboxes

async function mailboxCheck(
  deps: CheckDeps,
  tenantId: string,
  address: string,
  graphToken: AppToken | undefined,
  setup: ExchangeSetupValues | undefined,
  consentUrl: string | null,
): Promise<Check> {
  const name = `mailbox:${address}`;
  if (!graphToken)
    return {
      name,
      ok: false,
      detail: 'Not probed: there is no Microsoft Graph token (see the token checks).',
      remediation: 'Fix the Microsoft Graph token check first.',
    };
  let result: MailboxProbe;
  try {
    result = await deps.graph.probeMailbox(tenantId, address);
  } catch (err) {
    if (!isExternalFailure(err)) throw err;
    return { name, ...graphFailure(err, 'the mailbox') };
  }
  switch (result.result) {
    case 'reachable':
      return {
        name,
        ok: true,
        detail: "Reachable: Microsoft Graph opened the inbox with the vendor application's token.",
        remediation: null,
      };
    case 'not_found':
      return {
        name,
        ok: false,
        detail:
          result.code === 'MailboxNotEnabledForRESTAPI'
            ? `No such mailbox: the user exists but has no Exchange Online mailbox (${result.code}).`
            : `No such mailbox: no user or mailbox with this address in the tenant (${result.code ?? 'not found'}).`,
        remediation:
          'Check the address (a typing error, or the mailbox lives in another tenant); a user needs an Exchange Online licence to have a mailbox.',
      };
    case 'access_denied': {
      // Graph answers ErrorAccessDenied both without a Mail permission and for a mailbox that an application
      // access policy or RBAC scope leaves out (FACTS.md §6.4); the token's roles tell which (port.ts).
      if (!graphToken.roles.some((r) => MAIL_READ_ROLES.includes(r)))
        return {
          name,
          ok: false,
          detail: `Access denied: the vendor application has no Mail permission in Microsoft Graph (none of ${MAIL_READ_ROLES.join(', ')}), so Graph cannot open any mailbox. This says nothing about IMAP/POP/SMTP, which Exchange gates by mailbox permission.`,
          remediation: consentUrl
            ? `If the PBX uses Microsoft Graph for mail, the consent must include Mail.ReadWrite: open this consent link and approve: ${consentUrl}`
            : 'If the PBX uses Microsoft Graph for mail, the consent must include Mail.ReadWrite (profile graph-mail).',
        };
      return {
        name,
        ok: false,
        detail: `Access denied by Exchange Online (${result.code ?? 'ErrorAccessDenied'}): the application holds a Mail permission, so an application access policy or an RBAC for Applications scope leaves this mailbox out.`,
        remediation: setup
          ? `An Exchange administrator runs, in Exchange Online PowerShell:\n${mailboxAccessCommands(setup, address)}`
          : 'An Exchange administrator must include this mailbox in the application access policy or RBAC scope of the vendor application.',
      };
    }
  }
}

// ------------------------------------------------------------------------------------------- exchange

function exchangeCheck(
  protocols: readonly string[],
  app: ExchangeApp,
  sp: ResolvedServicePrincipal,
  setup: ExchangeSetupValues | undefined,
  consentUrl: string | null,
): Check {
  const name = 'exchange-setup';
  const whose = app.ownApp
    ? `The tenant's own application (app id ${app.appId})`
    : "The vendor's application";
  if (!sp.found || !setup)
    return {
      name,
      ok: false,
      detail:
        !sp.found && sp.reason === 'unreadable'
          ? "The enterprise application's object id could not be read (Microsoft Graph unavailable, none recorded)."
          : `${whose} has no enterprise application in this tenant, so it cannot be registered in Exchange Online for ${protocols.join('/')}.`,
      remediation:
        !sp.found && sp.reason === 'unreadable'
          ? 'Try the check again shortly.'
          : consentUrl
            ? `Consent first: open this consent link and approve: ${consentUrl}`
            : 'Consent first, then run the check again.',
    };
  if (sp.accountEnabled === false)
    return {
      name,
      ok: false,
      detail: `The enterprise application (object id ${sp.id}) is disabled in this tenant.`,
      remediation:
        'In the Microsoft Entra admin center, open Enterprise applications, select the vendor\'s application, and under Properties set "Enabled for users to sign in?" to Yes.',
    };
  return {
    name,
    ok: true,
    detail: `${protocols.join('/')} need the enterprise application (object id ${sp.id}, app id ${setup.appId}) registered as an Exchange Online service principal and a permission on each mailbox. Microsoft Graph cannot show either, so the PowerShell below is what to run once (and again for new mailboxes).`,
    remediation: `An Exchange administrator runs, in PowerShell (or download it: GET /api/tenants/${setup.tenantId}/exchange-setup.ps1?mailboxes=…):\n${exchangeSetupCommands(setup)}`,
  };
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
