/**
 * Proof of a consent (SPEC.md "Customers"): the `tenant` of a consent redirect is not evidence, and a token
 * without `roles` proves nothing (FACTS.md §4.1), so the broker acquires a fresh app-only token for the
 * tenant for each resource the profiles use and reads the granted roles from it, then reads the organization's
 * name and verified domains from Graph. The token's `oid` is the home app's service principal in that tenant.
 *
 * A fresh consent replicates in parts: the service principal first, its app role assignments later, and for a
 * while a token may lack some of the new roles, or `oid` (FACTS.md §3; microsoftgraph/microsoft-graph-docs#10907
 * "Token does not contain permissions even after obtaining admin consent", #4765 "Admin Consent not reflected
 * immediately"). Within REPLICATION_WINDOW_SECONDS of the consent such a token proves nothing yet: the proof is
 * `unprovable` (tried again with backoff), not `proven` with roles missing (a `degraded` tenant).
 * @module
 */
import { EntraRefused, EntraUnavailable, type EntraTokens } from '../adapters/entra/port.js';
import { GraphRefused, GraphUnavailable, type Directory } from '../adapters/graph/port.js';
import type { Profile, Profiles, Resource } from '../profiles/profiles.js';
import type { BundleApps } from '../credentials/bundle-apps.js';
// AADSTS700016 / 7000229: the consent not (yet) in the tenant; the lifecycle reads them the same way.
import { REPLICATION_CODES } from '../tenants/lifecycle.js';

/**
 * How long after a consent a token lacking some of the consent's roles (or `oid`) is taken for replication: one
 * hour. Microsoft documents no figure (FACTS.md §3: "Exact duration: unverified"); the reports above speak of
 * seconds to minutes, so an hour is a generous bound. After it, a role still missing is really missing.
 */
export const REPLICATION_WINDOW_SECONDS = 3_600;
/** When a token without oid was issued in the window (src/adapters/entra/msal.ts): ARO-RP's propagation sign. */
const INCOMPLETE_TOKEN = 'incomplete_token';
/** When to try again while roles replicate; reverifyOne backs off from there (nextCheckDelaySeconds). */
const REPLICATING_RETRY_SECONDS = 15;

/** Whether `now` lies within REPLICATION_WINDOW_SECONDS of a consent given at `consentedAt`. */
export function inReplicationWindow(consentedAt: Date | string | null | undefined, now: Date): boolean {
  if (consentedAt === null || consentedAt === undefined) return false;
  const at = typeof consentedAt === 'string' ? Date.parse(consentedAt) : consentedAt.getTime();
  return Number.isFinite(at) && now.getTime() - at < REPLICATION_WINDOW_SECONDS * 1000;
}

/** The consent a proof is for, when it was just given: within the window, partial tokens are replication. */
export interface ProofOptions {
  readonly consentedAt: Date | string;
  readonly now: Date;
}

/** The resource's own service principal is missing in the tenant, e.g. no Exchange Online (AADSTS500011). */
const RESOURCE_NOT_PROVISIONED = '500011';

/** The pseudo-profile under which `missingRoles` lists roles the broker itself needs (e.g. Organization.Read.All). */
export const BROKER_PROFILE = 'broker';

export interface ProofDeps {
  readonly entra: EntraTokens;
  readonly graph: Directory;
  readonly profiles: Profiles;
  /** Which app serves which profile: each bundle's consent is proven with its own app's tokens. */
  readonly apps: Pick<BundleApps, 'forProfiles' | 'home'>;
}

export interface ResourceNote {
  readonly scope: string;
  readonly code: string;
  readonly message: string;
}

/** One bundle app's consent found removed: Entra's code and the bundle, for the tenant's `lastError`. */
export interface RemovedConsent {
  readonly app: string;
  readonly bundle: string;
  readonly title: string;
  readonly code: string;
}

export type ProofResult =
  | {
      readonly kind: 'proven';
      readonly servicePrincipalId: string;
      /** Granted app role values by resource scope: the union over the apps. */
      readonly grantedRoles: Record<string, string[]>;
      /** What each app proven was granted, by its client id (src/tenants/tenant-store.ts `apps`). */
      readonly apps: Record<
        string,
        { grantedRoles: Record<string, string[]>; servicePrincipalId: string | null }
      >;
      /** The home app's client id (src/tenants/lifecycle.ts `TenantProof`). */
      readonly homeApp: string;
      /**
       * The bundles whose consent is gone while another bundle's holds (a re-check, several bundles): their app
       * is recorded with nothing granted, their profiles' roles missing (a `degraded` tenant, not a revoked one).
       */
      readonly removed?: readonly RemovedConsent[];
      /** Missing app role values by profile name (and `broker`); only profiles with something missing. */
      readonly missingRoles: Record<string, string[]>;
      readonly displayName: string | null;
      readonly verifiedDomains: string[];
      readonly notes: ResourceNote[];
    }
  /** Entra accepted the consent but cannot show it yet (replication), or is unreachable: try again later. */
  | {
      readonly kind: 'unprovable';
      readonly code: string;
      readonly message: string;
      readonly retryAfterSeconds: number;
    }
  /** Entra refuses the home app in this tenant for another reason (e.g. disabled app, Conditional Access). */
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

/**
 * Proves what `tenantId` granted for the named profiles (unknown names are ignored: validated on input). With
 * `options`, a consent given less than REPLICATION_WINDOW_SECONDS ago whose tokens lack roles or `oid` is
 * `unprovable` (`roles_replicating`, `incomplete_token`) rather than proven incomplete or refused.
 */
export async function proveConsent(
  deps: ProofDeps,
  tenantId: string,
  profileNames: readonly string[],
  options?: ProofOptions,
): Promise<ProofResult> {
  const replicating = options !== undefined && inReplicationWindow(options.consentedAt, options.now);
  // App roles are what an app-only token proves: the delegated profiles' scopes are proven by a user's sign-in.
  const profiles = profileNames
    .map((n) => deps.profiles.get(n))
    .filter((p): p is Profile => p !== undefined && p.kind === 'application');
  // Each bundle the profiles need is proven with its own app; every app lists the broker's own roles.
  const needed = deps.apps.forProfiles(profileNames);
  const apps: Extract<ProofResult, { kind: 'proven' }>['apps'] = {};
  const grantedRoles: Record<string, string[]> = {};
  const notes: ResourceNote[] = [];
  const removed: RemovedConsent[] = [];
  let servicePrincipalId: string | undefined;
  const proving = needed.length ? needed : [deps.apps.home];
  apps: for (const app of proving) {
    const resources = new Map<string, Resource>();
    for (const p of profiles)
      if (app.bundle.profiles.includes(p)) resources.set(p.resource.scope, p.resource);
    for (const r of deps.profiles.brokerRoles) resources.set(r.resource.scope, r.resource);
    const granted: Record<string, string[]> = {};
    let appServicePrincipal: string | undefined;
    for (const resource of resources.values()) {
      try {
        const token = await deps.entra.acquireAppToken(tenantId, resource.scope, {
          fresh: true,
          app: app.clientId,
        });
        granted[resource.scope] = [...token.roles].sort();
        appServicePrincipal ??= token.servicePrincipalId;
      } catch (err) {
        if (err instanceof EntraUnavailable) {
          return {
            kind: 'unprovable',
            code: 'entra_unavailable',
            message: 'Microsoft Entra ID could not be reached.',
            retryAfterSeconds: err.retryAfterSeconds,
          };
        }
        if (!(err instanceof EntraRefused)) throw err;
        const code = err.aadsts ? `AADSTS${err.aadsts}` : err.error;
        if (err.aadsts && REPLICATION_CODES.has(err.aadsts)) {
          // Long after the consent, one bundle's app gone while others may hold: that bundle alone is lost
          // (an admin removed that enterprise application); the others' profiles keep working.
          if (!replicating && proving.length > 1) {
            removed.push({ app: app.clientId, bundle: app.bundle.name, title: app.bundle.title, code });
            apps[app.clientId] = { grantedRoles: {}, servicePrincipalId: null };
            continue apps;
          }
          return {
            kind: 'unprovable',
            code,
            message: 'Entra ID does not show the consent yet (directory replication).',
            retryAfterSeconds: 30,
          };
        }
        if (replicating && err.error === INCOMPLETE_TOKEN) {
          // FACTS.md §3: ARO-RP takes a token without `oid` for "an indicator of AAD propagation delay".
          return {
            kind: 'unprovable',
            code: INCOMPLETE_TOKEN,
            message: 'Entra ID issued a token without the service principal yet (directory replication).',
            retryAfterSeconds: REPLICATING_RETRY_SECONDS,
          };
        }
        if (err.aadsts === RESOURCE_NOT_PROVISIONED) {
          granted[resource.scope] = [];
          if (!notes.some((n) => n.scope === resource.scope))
            notes.push({
              scope: resource.scope,
              code,
              message: `${resource.displayName} is not available in this tenant (no subscription or service principal).`,
            });
          continue;
        }
        return { kind: 'refused', code, message: err.message };
      }
    }
    apps[app.clientId] = { grantedRoles: granted, servicePrincipalId: appServicePrincipal ?? null };
    servicePrincipalId ??= appServicePrincipal;
    for (const [scope, roles] of Object.entries(granted))
      grantedRoles[scope] = [...new Set([...(grantedRoles[scope] ?? []), ...roles])].sort();
  }
  if (!servicePrincipalId && removed.length === proving.length) {
    // Every app's consent is gone: the tenant's consent is, as with one app.
    return {
      kind: 'unprovable',
      code: removed[0]!.code,
      message: 'Entra ID does not show the consent (removed, or not replicated yet).',
      retryAfterSeconds: 30,
    };
  }
  if (!servicePrincipalId) {
    // Every resource is unprovisioned: no token at all, so nothing proves the consent.
    return {
      kind: 'refused',
      code: notes[0]?.code ?? 'no_resource',
      message: 'No resource of the requested profiles is available in this tenant.',
    };
  }

  const missingRoles: Record<string, string[]> = {};
  const appOf = new Map(needed.flatMap((a) => a.bundle.profiles.map((p) => [p, a.clientId] as const)));
  for (const p of profiles) {
    const granted = new Set(apps[appOf.get(p) ?? '']?.grantedRoles[p.resource.scope] ?? []);
    const missing = p.roles.map((r) => r.value).filter((v) => !granted.has(v));
    if (missing.length) missingRoles[p.name] = missing;
  }
  const brokerMissing = deps.profiles.brokerRoles
    .filter((r) => !(grantedRoles[r.resource.scope] ?? []).includes(r.value))
    .map((r) => r.value);
  if (brokerMissing.length) missingRoles[BROKER_PROFILE] = brokerMissing;
  if (replicating && Object.keys(missingRoles).length) {
    // `/.default` consents to every permission of the registration at once (FACTS.md §1.1), so a role missing
    // this soon after the consent has been granted and not replicated yet.
    const missing = [...new Set(Object.values(missingRoles).flat())].sort();
    return {
      kind: 'unprovable',
      code: 'roles_replicating',
      message: `Entra ID does not show every granted role yet (directory replication): ${missing.join(', ')}.`,
      retryAfterSeconds: REPLICATING_RETRY_SECONDS,
    };
  }

  let displayName: string | null = null;
  let verifiedDomains: string[] = [];
  if (!brokerMissing.includes('Organization.Read.All')) {
    try {
      const org = await deps.graph.organization(tenantId);
      displayName = org.displayName;
      verifiedDomains = org.verifiedDomains.map((d) => d.name);
    } catch (err) {
      // The name is a convenience for support; the consent is proven by the token. Note it and go on.
      if (!(err instanceof GraphRefused || err instanceof GraphUnavailable)) throw err;
      notes.push({
        scope: 'graph:organization',
        code: err instanceof GraphRefused ? (err.code ?? String(err.status)) : 'graph_unavailable',
        message: 'The organization could not be read from Microsoft Graph.',
      });
    }
  }
  return {
    kind: 'proven',
    servicePrincipalId,
    grantedRoles,
    apps,
    homeApp: deps.apps.home.clientId,
    ...(removed.length ? { removed } : {}),
    missingRoles,
    displayName,
    verifiedDomains,
    notes,
  };
}
