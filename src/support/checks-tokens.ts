/**
 * The token and role checks of a support check (src/support/checks.ts `checkTenant`): one fresh app-only token
 * per resource, and the granted roles against each profile and the broker's own (src/consent/proof.ts
 * `proveConsent`).
 * @module
 */
import { EntraUnavailable, type AppToken, type EntraRefused } from '../adapters/entra/port.js';
import { BROKER_PROFILE, type ProofResult } from '../consent/proof.js';
import type { Profile, Profiles, Resource } from '../profiles/profiles.js';
import type { Check } from './checks.js';
import { explainEntraRefusal } from './entra-codes.js';

/** What Entra ID answered for one resource's token. */
export type TokenOutcome =
  | { readonly ok: true; readonly token: AppToken }
  | { readonly ok: false; readonly error: EntraRefused | EntraUnavailable };

// --------------------------------------------------------------------------------------------- tokens

export function tokenCheck(
  resource: Resource,
  outcome: TokenOutcome,
  consentUrl: string | null,
  /** The bundle whose app asked, for a deployment of several (`token:<bundle>:<resource>`). */
  bundle?: string,
): Check {
  const name = bundle ? `token:${bundle}:${resource.key}` : `token:${resource.key}`;
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

export interface RoleFinding {
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
export function roleFindings(
  all: Profiles,
  profiles: readonly Profile[],
  proof: ProofResult,
  /**
   * The app (client id) of a profile (`broker`: the app the broker's own roles are read with), and the token
   * the check asked that app for, per scope.
   */
  tokens: {
    readonly appOf: (profile: string) => string;
    readonly outcome: (app: string, scope: string) => TokenOutcome | undefined;
  },
): RoleFinding[] {
  const targets = [
    ...profiles
      .filter((p) => p.kind === 'application')
      .map((p) => ({
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
  return targets.map(({ name, resource, needs }) => {
    const rolesOf = (scope: string): readonly string[] | undefined => {
      if (proof.kind === 'proven')
        return name === BROKER_PROFILE
          ? (proof.grantedRoles[scope] ?? [])
          : (proof.apps[tokens.appOf(name)]?.grantedRoles[scope] ?? []);
      const o = tokens.outcome(tokens.appOf(name), scope);
      return o?.ok ? o.token.roles : undefined;
    };
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

export function roleCheck(f: RoleFinding, consentUrl: string | null): Check {
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
