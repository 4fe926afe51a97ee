/**
 * Proof of a consent (SPEC.md "Customers"): the `tenant` of a consent redirect is not evidence, and a token
 * without `roles` proves nothing (FACTS.md §4.1), so the broker acquires a fresh app-only token for the
 * tenant for each resource the profiles use and reads the granted roles from it, then reads the organization's
 * name and verified domains from Graph. The token's `oid` is the home app's service principal in that tenant.
 * @module
 */
import { EntraRefused, EntraUnavailable, type EntraTokens } from '../adapters/entra/port.js';
import { GraphRefused, GraphUnavailable, type Directory } from '../adapters/graph/port.js';
import type { Profiles, Resource } from '../profiles/profiles.js';

/**
 * Codes Entra answers while a fresh consent has not reached every replica: app not found in the tenant
 * (AADSTS700016) or no service principal yet (AADSTS7000229). Microsoft's own ARO-RP retries on them
 * (FACTS.md §3, "Replication delay after consent").
 */
export const REPLICATION_CODES: ReadonlySet<string> = new Set(['700016', '7000229']);
/** The resource's own service principal is missing in the tenant, e.g. no Exchange Online (AADSTS500011). */
const RESOURCE_NOT_PROVISIONED = '500011';

/** The pseudo-profile under which `missingRoles` lists roles the broker itself needs (e.g. Organization.Read.All). */
export const BROKER_PROFILE = 'broker';

export interface ProofDeps {
  readonly entra: EntraTokens;
  readonly graph: Directory;
  readonly profiles: Profiles;
}

export interface ResourceNote {
  readonly scope: string;
  readonly code: string;
  readonly message: string;
}

export type ProofResult =
  | {
      readonly kind: 'proven';
      readonly servicePrincipalId: string;
      /** Granted app role values by resource scope. */
      readonly grantedRoles: Record<string, string[]>;
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

/** Proves what `tenantId` granted for the named profiles (unknown names are ignored: validated on input). */
export async function proveConsent(
  deps: ProofDeps,
  tenantId: string,
  profileNames: readonly string[],
): Promise<ProofResult> {
  const profiles = profileNames.map((n) => deps.profiles.get(n)).filter((p) => p !== undefined);
  const resources = new Map<string, Resource>();
  for (const p of profiles) resources.set(p.resource.scope, p.resource);
  for (const r of deps.profiles.brokerRoles) resources.set(r.resource.scope, r.resource);

  const grantedRoles: Record<string, string[]> = {};
  const notes: ResourceNote[] = [];
  let servicePrincipalId: string | undefined;
  for (const resource of resources.values()) {
    try {
      const token = await deps.entra.acquireAppToken(tenantId, resource.scope, { fresh: true });
      grantedRoles[resource.scope] = [...token.roles].sort();
      servicePrincipalId ??= token.servicePrincipalId;
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
        return {
          kind: 'unprovable',
          code,
          message: 'Entra ID does not show the consent yet (directory replication).',
          retryAfterSeconds: 30,
        };
      }
      if (err.aadsts === RESOURCE_NOT_PROVISIONED) {
        grantedRoles[resource.scope] = [];
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
  if (!servicePrincipalId) {
    // Every resource is unprovisioned: no token at all, so nothing proves the consent.
    return {
      kind: 'refused',
      code: notes[0]?.code ?? 'no_resource',
      message: 'No resource of the requested profiles is available in this tenant.',
    };
  }

  const missingRoles: Record<string, string[]> = {};
  for (const p of profiles) {
    const granted = new Set(grantedRoles[p.resource.scope] ?? []);
    const missing = p.roles.map((r) => r.value).filter((v) => !granted.has(v));
    if (missing.length) missingRoles[p.name] = missing;
  }
  const brokerMissing = deps.profiles.brokerRoles
    .filter((r) => !(grantedRoles[r.resource.scope] ?? []).includes(r.value))
    .map((r) => r.value);
  if (brokerMissing.length) missingRoles[BROKER_PROFILE] = brokerMissing;

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
    missingRoles,
    displayName,
    verifiedDomains,
    notes,
  };
}
