/**
 * The token endpoint's grant (SPEC.md "Appliances"; RFC 6749 §4.4): authenticate the appliance, check the
 * grant type and the scope against its profiles, require a proven consent of its bound tenant, and answer
 * with the Microsoft token for that tenant from the token cache. An appliance gets tokens for its own bound
 * tenant and no other, whatever it sends.
 * @module
 */
import { EntraRefused } from '../adapters/entra/port.js';
import type { BrokerMetrics } from '../adapters/telemetry/port.js';
import { NOT_CACHED, type RecordDirectory } from '../directory/record-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import type { Profiles, Resource } from '../profiles/profiles.js';
import { grantsOf, type TenantRecord } from '../tenants/tenant-store.js';
import type { BundleApp, BundleApps } from '../credentials/bundle-apps.js';
import { REPLICATION_WINDOW_SECONDS } from '../consent/proof.js';
import { REPLICATION_CODES } from '../tenants/transitions.js';
import type { TokenExpectation, TokenHold, VendedToken } from './token-cache-contract.js';
import { keepWarm, replayWarm, type VerifiedCredential } from './warm-path.js';
import type { AuthThrottle } from './auth-throttle.js';
import { authenticate } from './authenticate.js';
import { rememberedClient, type ClientAuthDeps } from './client-auth.js';
import {
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  UnauthorizedClient,
  UnsupportedGrantType,
} from './errors.js';

/** Where tokens come from: the in-memory token cache in front of Entra ID (src/tokens). */
export interface TokenSource {
  /** `expect`: the roles its tokens should carry while the consent replicates (see replicationExpectation). */
  get(tenantId: string, scope: string, expect?: TokenExpectation): Promise<VendedToken>;
  /** The token if it is in memory and vendable now, without a promise (the warm path). */
  peek(tenantId: string, scope: string): VendedToken | undefined;
  /** The entry of (tenantId, scope), held to `peek` it again without a lookup. */
  hold(tenantId: string, scope: string): TokenHold | undefined;
}

export interface VendDeps extends ClientAuthDeps {
  readonly directory: RecordDirectory;
  readonly profiles: Profiles;
  /** Each bundle app's tokens (src/vending/token-caches.ts). */
  readonly tokens: { of(app: string | undefined): TokenSource };
  /** The app that serves a profile (src/credentials/bundle-apps.ts). */
  readonly apps: Pick<BundleApps, 'forProfile' | 'forProfiles' | 'byClientId'>;
  /** Counts a vended token for an appliance (aggregated, flushed in the background). */
  readonly recordUsage: (clientId: string, tenantId: string) => void;
  /** `recordUsage` for one appliance, kept by the warm path with its credentials. */
  readonly usageCounter: (clientId: string, tenantId: string) => () => void;
  /** Slows down repeated failed client authentication per source address and (client id, source). */
  readonly throttle?: AuthThrottle;
  /** Counts tokens vended and error answers (src/http/token-endpoint.ts). */
  readonly metrics?: Pick<BrokerMetrics, 'tokenVended' | 'tokenError'>;
}

export interface TokenRequest {
  readonly authorization: string | null;
  readonly form: ReadonlyMap<string, string>;
  /** `{tenant}` of `POST /{tenant}/oauth2/v2.0/token`, when that alias was used. */
  readonly pathTenant?: string;
  /** The caller's address, for throttling. */
  readonly sourceAddress?: string;
  /**
   * `v1` for `POST /{tenant}/oauth2/token`, Entra's v1 endpoint shape: the resource is asked for by `resource`
   * (an App ID URI or app id), not by `scope`. Otherwise v2 (the broker's own path and `/oauth2/v2.0/token`).
   */
  readonly endpoint?: 'v1';
}

/** RFC 6749 §5.1 answer. */
export interface TokenResponse {
  readonly token_type: 'Bearer';
  readonly access_token: string;
  readonly expires_in: number;
  readonly scope: string;
}

/** A token vended to an appliance; `tokenResponse` gives its RFC 6749 §5.1 answer. */
export interface Vended {
  /** The token source's object: the same one for every answer until the token is refreshed. */
  readonly token: VendedToken;
  /** Whole seconds the token has left. */
  readonly expiresIn: number;
  readonly scope: string;
}

export function tokenResponse(v: Vended): TokenResponse {
  return { token_type: 'Bearer', access_token: v.token.accessToken, expires_in: v.expiresIn, scope: v.scope };
}

/** Codes Entra gives when the home app has no (or no longer a) service principal in the tenant (FACTS.md §3). */
const CONSENT_MISSING = REPLICATION_CODES;

/** What the steps of one grant have found so far. */
interface Grant {
  readonly req: TokenRequest;
  readonly nowMs: number;
  appliance?: Appliance;
  /** Set when the client was vouched for by credentials verified before (src/vending/warm-path.ts). */
  remembered?: VerifiedCredential;
  /** The resource asked for, by the spelling asked (passed on to Entra and answered as it is declared). */
  scope?: string;
  resource?: Resource;
  /** The app whose tokens serve that resource to this appliance (its profile's bundle). */
  app?: BundleApp;
  tenantId?: string;
  tenant?: TenantRecord;
  token?: VendedToken;
}

/**
 * One step of the grant. `fromMemory` does the step from what is in memory now, without a promise, and says
 * `false` when it would have to wait for I/O; `run` does it whatever it takes. Both make the same checks on
 * the same values and throw the same refusals.
 */
interface GrantStep {
  readonly name: string;
  readonly fromMemory: (deps: VendDeps, g: Grant) => boolean;
  readonly run: (deps: VendDeps, g: Grant) => void | Promise<void>;
}

/** A step that never waits: its one form is both `fromMemory` and `run`. */
function pure(name: string, check: (deps: VendDeps, g: Grant) => void): GrantStep {
  return { name, fromMemory: (deps, g) => (check(deps, g), true), run: check };
}

/**
 * The grant, in order (RFC 6749 §4.4, as node-oidc-provider's token action lists its steps). The warm path
 * and the full grant run this one list; nothing else decides whether an appliance gets a token.
 */
export const GRANT_STEPS: readonly GrantStep[] = [
  {
    name: 'client authentication',
    fromMemory(deps, g) {
      const remembered = rememberedClient(deps, g.req.authorization, g.req.form, g.nowMs);
      if (remembered === undefined) return false;
      // A blocked (client id, source) gets its 429 from the full way.
      if ((deps.throttle?.blockedFor(remembered.appliance.clientId, g.req.sourceAddress) ?? 0) > 0)
        return false;
      g.appliance = remembered.appliance;
      g.remembered = remembered.remembered;
      return true;
    },
    async run(deps, g) {
      g.appliance = (await authenticate(deps, g.req)).appliance;
    },
  },
  pure('grant type', (_deps, g) => {
    const grantType = g.req.form.get('grant_type');
    if (!grantType) throw new InvalidRequest('grant_type is required.');
    // refresh_token is answered before these steps (src/vending/delegated.ts), except on the v1 path.
    if (grantType !== 'client_credentials') throw new UnsupportedGrantType();
  }),
  pure('scope allowed by the profiles', (deps, g) => {
    const { resource, spelling, profile } = resolveScope(
      deps.profiles,
      g.appliance!.profiles,
      askedScope(deps.profiles, g.req),
    );
    g.resource = resource;
    g.scope = spelling;
    g.app = deps.apps.forProfile(profile);
  }),
  pure('bound tenant', (_deps, g) => {
    const tenantId = g.appliance!.tenantId;
    if (!tenantId) {
      throw new InvalidGrant(
        'This appliance is not bound to a tenant yet: an administrator of the customer tenant must complete the consent (POST /appliance/onboardings).',
      );
    }
    g.tenantId = tenantId;
  }),
  {
    name: 'tenant record',
    fromMemory(deps, g) {
      const tenant = deps.directory.peekTenant(g.tenantId!);
      if (tenant === NOT_CACHED) return false;
      if (tenant !== undefined) g.tenant = tenant;
      return true;
    },
    async run(deps, g) {
      const tenant = await deps.directory.tenant(g.tenantId!);
      if (tenant !== undefined) g.tenant = tenant;
    },
  },
  pure('tenant named by the path', (_deps, g) => {
    if (g.req.pathTenant !== undefined)
      assertPathTenant(g.req.pathTenant, g.tenantId!, g.tenant?.verifiedDomains ?? []);
  }),
  pure('consent in force', (_deps, g) => assertConsentInForce(g.tenantId!, g.tenant)),
  pure('scope granted', (_deps, g) => {
    if ((grantsOf(g.tenant!, g.app!)?.grantedRoles[g.resource!.scope] ?? []).length === 0) {
      throw new InvalidGrant(
        `Tenant ${g.tenantId} has granted no permission for ${g.scope}: an administrator must consent to it.`,
      );
    }
  }),
  {
    name: 'Microsoft token',
    fromMemory(deps, g) {
      const token = deps.tokens.of(g.app!.clientId).peek(g.tenantId!, g.scope!);
      if (token === undefined) return false;
      g.token = token;
      return true;
    },
    async run(deps, g) {
      const { tenantId, scope, tenant, resource, app } = g as Required<Grant>;
      try {
        g.token = await deps.tokens
          .of(app.clientId)
          .get(
            tenantId,
            scope,
            replicationExpectation(deps.profiles, tenant, resource.scope, deps.now().getTime()),
          );
      } catch (err) {
        if (err instanceof EntraRefused) {
          const cause =
            err.aadsts && CONSENT_MISSING.has(err.aadsts)
              ? 'the consent is missing in the tenant'
              : 'Microsoft Entra ID refused the token';
          throw new InvalidGrant(`${cause} (AADSTS${err.aadsts ?? '?'}) for tenant ${tenantId}.`);
        }
        // TokenUnavailable (Entra down, nothing cached) goes on to the one outage map (src/http/outage.ts).
        throw err;
      }
    },
  },
];

/** The first step, whose outcome the warm path may replay past, and the rest: split once, not per request. */
const [AUTHENTICATION, ...CHECKS] = GRANT_STEPS as [GrantStep, ...GrantStep[]];

/**
 * The warm path (src/vending/warm-path.ts), without a promise: the answer when every step of GRANT_STEPS can
 * be done from memory and passes. Undefined otherwise (a refusal included): then `issueToken` answers, with
 * the refusal's reason.
 */
export function vendFromMemory(deps: VendDeps, req: TokenRequest): Vended | undefined {
  const g: Grant = { req, nowMs: deps.now().getTime() };
  if (!AUTHENTICATION.fromMemory(deps, g)) return undefined;
  const verified = g.remembered!;
  const replayed = replayWarm(verified, req.form, req.pathTenant);
  if (replayed !== undefined) return answer(replayed.token, replayed.scope, g.nowMs);
  try {
    for (const step of CHECKS) if (!step.fromMemory(deps, g)) return undefined;
  } catch {
    return undefined;
  }
  const { tenantId, tenant, scope, appliance, app } = g as Required<Grant>;
  keepWarm(
    verified,
    {
      form: req.form,
      pathTenant: req.pathTenant,
      tenant,
      scope,
      count: deps.usageCounter(appliance.clientId, tenantId),
    },
    {
      tenant: deps.directory.holdTenant(tenantId),
      token: deps.tokens.of(app.clientId).hold(tenantId, scope),
    },
  );
  return vended(deps, g);
}

/** The full grant: every step of GRANT_STEPS, waiting for the directory and Entra where it must. */
export async function issueToken(deps: VendDeps, req: TokenRequest): Promise<Vended> {
  const g: Grant = { req, nowMs: deps.now().getTime() };
  for (const step of GRANT_STEPS) await step.run(deps, g);
  return vended(deps, { ...g, nowMs: deps.now().getTime() });
}

/** The bound tenant's consent is recorded, proven and in force. */
export function assertConsentInForce(
  tenantId: string,
  tenant: TenantRecord | undefined,
): asserts tenant is TenantRecord {
  if (!tenant)
    throw new InvalidGrant(
      `No consent is recorded for tenant ${tenantId}: an administrator of that tenant must consent first.`,
    );
  switch (tenant.status) {
    case 'active':
    case 'degraded':
      return;
    case 'pending_verification':
      throw new InvalidGrant(
        `The consent of tenant ${tenantId} is still being verified with Microsoft; try again shortly.`,
      );
    case 'revoked':
      throw new InvalidGrant(
        `The consent of tenant ${tenantId} was revoked: an administrator must consent again.`,
      );
    case 'offboarded':
      throw new InvalidGrant(`Tenant ${tenantId} was offboarded by the vendor.`);
    case 'error':
      throw new InvalidGrant(
        `The consent of tenant ${tenantId} cannot be used (${tenant.lastError?.code ?? 'error'}): ${tenant.lastError?.remediation ?? 'contact the vendor'}`,
      );
  }
}

/**
 * Within REPLICATION_WINDOW_SECONDS of the tenant's consent, the roles its profiles need on
 * `scope` (less those its proof found missing), so that the token cache keeps a token lacking one only briefly
 * (src/vending/token-cache.ts). Undefined after the window, or when no profile of the tenant uses the scope.
 */
export function replicationExpectation(
  profiles: Profiles,
  tenant: TenantRecord,
  scope: string,
  nowMs: number,
): TokenExpectation | undefined {
  if (tenant.consentedAt === null) return undefined;
  const untilMs = Date.parse(tenant.consentedAt) + REPLICATION_WINDOW_SECONDS * 1000;
  if (!(nowMs < untilMs)) return undefined;
  const roles = new Set<string>();
  for (const name of tenant.profiles) {
    const profile = profiles.get(name);
    if (profile?.kind !== 'application' || profile.resource.scope !== scope) continue;
    const missing = tenant.missingRoles[name] ?? [];
    for (const role of profile.roles) if (!missing.includes(role.value)) roles.add(role.value);
  }
  return roles.size ? { roles: [...roles], untilMs } : undefined;
}

function vended(deps: Pick<VendDeps, 'recordUsage'>, g: Grant): Vended {
  const { appliance, tenantId, token, scope } = g as Required<Grant>;
  deps.recordUsage(appliance.clientId, tenantId);
  return answer(token, scope, g.nowMs);
}

function answer(token: VendedToken, scope: string, nowMs: number): Vended {
  return { token, expiresIn: Math.max(0, Math.floor((token.expiresOn.getTime() - nowMs) / 1000)), scope };
}

/**
 * The `.default` scope a request asks for. On the v1 path that is its `resource` (Entra's v1 endpoint requires
 * it and ignores `scope`: https://learn.microsoft.com/en-us/azure/active-directory/azuread-dev/v1-oauth2-client-creds-grant-flow);
 * v2 refuses `resource` as Entra does (AADSTS901002 "The 'resource' request parameter is not supported.").
 */
function askedScope(profiles: Profiles, req: TokenRequest): string | undefined {
  const resource = req.form.get('resource');
  if (req.endpoint === 'v1') {
    if (resource === undefined || resource.trim() === '')
      throw new InvalidRequest(
        `The request body must contain the 'resource' parameter on this v1 path, e.g. resource=${exampleScope(profiles).replace(/\/\.default$/, '')}.`,
      );
    return `${resource.trim().replace(/\/+$/, '')}/.default`;
  }
  if (resource !== undefined)
    throw new InvalidRequest(
      "The 'resource' request parameter is not supported here: ask for scope={resource}/.default, or use the v1 path /{tenant}/oauth2/token.",
    );
  return req.form.get('scope');
}

/** A scope to name in an error: the first resource's, so that it is this cloud's (src/cloud/clouds.ts). */
function exampleScope(profiles: Profiles): string {
  return profiles.resources.values().next().value?.scope ?? '{resource}/.default';
}

/** RFC 6749 §3.3 / FACTS.md §2: one resource's `.default` scope, one the appliance's profiles allow. */
function resolveScope(
  profiles: Profiles,
  allowed: readonly string[],
  raw: string | undefined,
): { resource: Resource; spelling: string; profile: string } {
  if (raw === undefined || raw.trim() === '')
    throw new InvalidScope(`scope is required: a resource .default scope such as ${exampleScope(profiles)}.`);
  const scopes = raw.trim().split(/ +/);
  if (scopes.length > 1) throw new InvalidScope('Ask for one resource .default scope per request.');
  const scope = scopes[0]!;
  if (!scope.endsWith('/.default'))
    throw new InvalidScope(
      `Only a resource .default scope can be used with client credentials (e.g. ${exampleScope(profiles)}).`,
    );
  const known = profiles.spellingOf(scope);
  if (!known) throw new InvalidScope('The scope is not a resource this broker serves.');
  // Only application profiles give app-only tokens: a delegated profile's resource is reached as a user who
  // signed in (a mailbox grant), never with the app's own roles.
  // The first such profile's bundle serves it: an appliance's profiles on one resource share a bundle
  // (profiles.ts `profilesSplitAcrossBundles`, checked at registration).
  const profile = allowed.find((name) => {
    const p = profiles.get(name);
    return p?.kind === 'application' && p.resource.scope === known.resource.scope;
  });
  if (profile === undefined) throw new InvalidScope("The scope is not allowed by this appliance's profiles.");
  return { ...known, profile };
}

function assertPathTenant(pathTenant: string, tenantId: string, domains: readonly string[]): void {
  const t = pathTenant.toLowerCase();
  if (t === 'organizations' || t === tenantId || domains.some((d) => d.toLowerCase() === t)) return;
  throw new UnauthorizedClient(
    "This client may get tokens only for its own tenant; the path names another (use its tenant id, one of its verified domains, or 'organizations').",
  );
}
