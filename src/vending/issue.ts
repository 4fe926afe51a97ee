/**
 * The token endpoint's grant (SPEC.md "Appliances"; RFC 6749 §4.4): authenticate the appliance, check the
 * grant type and the scope against its profiles, require a proven consent of its bound tenant, and answer
 * with the Microsoft token for that tenant from the token cache. An appliance gets tokens for its own bound
 * tenant and no other, whatever it sends.
 * @module
 */
import { EntraRefused } from '../adapters/entra/port.js';
import type { BrokerMetrics } from '../adapters/telemetry/port.js';
import { NOT_CACHED, type ApplianceDirectory } from '../appliances/appliance-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import type { Profiles } from '../profiles/profiles.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { REPLICATION_WINDOW_SECONDS } from '../consent/proof.js';
import { REPLICATION_CODES } from '../tenants/transitions.js';
import type { TokenExpectation, TokenHold, VendedToken } from '../tokens/token-cache-contract.js';
import type { VerifiedCredential } from './verified-credentials.js';
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
  readonly directory: ApplianceDirectory;
  readonly profiles: Profiles;
  readonly tokens: TokenSource;
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

/**
 * The warm path (served from memory with no I/O at all, README "Sandbox: a PBX gets tokens"), without a promise: the answer when
 * the client's Basic credentials were verified before (src/vending/verified-credentials.ts), its appliance,
 * tenant and token are in memory and every check passes — the very checks `issueToken` makes, on the same
 * values. Undefined otherwise (a refusal included): then `issueToken` answers, with the refusal's reason.
 */
export function vendFromMemory(deps: VendDeps, req: TokenRequest): Vended | undefined {
  const nowMs = deps.now().getTime();
  const remembered = rememberedClient(deps, req.authorization, req.form, nowMs);
  if (remembered === undefined) return undefined;
  const { appliance, remembered: verified } = remembered;
  if ((deps.throttle?.blockedFor(appliance.clientId, req.sourceAddress) ?? 0) > 0) return undefined;
  // The same body and path as last time, for the same appliance and tenant records: the checks passed on
  // exactly these values, so they pass again; only the token's own validity is looked at.
  const warm = verified.warm;
  if (
    warm !== undefined &&
    warm.form === req.form &&
    warm.pathTenant === req.pathTenant &&
    warm.tenantHold.peek() === warm.tenant
  ) {
    const token = warm.token.peek();
    if (token !== undefined) {
      warm.count();
      return answer(token, warm.scope, nowMs);
    }
  }
  verified.warm = undefined;
  let passed: { tenantId: string; tenant: TenantRecord; scope: string };
  try {
    const { scope, tenantId } = checkGrant(deps, req, appliance);
    const tenant = deps.directory.peekTenant(tenantId);
    if (tenant === NOT_CACHED) return undefined;
    checkTenant(req, tenantId, tenant, scope);
    passed = { tenantId, tenant, scope };
  } catch {
    return undefined;
  }
  const token = deps.tokens.peek(passed.tenantId, passed.scope);
  if (token === undefined) return undefined;
  remember(deps, verified, req, passed);
  return vended(deps, appliance.clientId, passed.tenantId, token, passed.scope, nowMs);
}

/** Keeps the outcome of passed checks with the credentials, when the entries they read can be held. */
function remember(
  deps: VendDeps,
  verified: VerifiedCredential,
  req: TokenRequest,
  passed: { tenantId: string; tenant: TenantRecord; scope: string },
): void {
  const { tenantId, tenant, scope } = passed;
  const tenantHold = deps.directory.holdTenant(tenantId);
  const token = deps.tokens.hold(tenantId, scope);
  if (tenantHold === undefined || token === undefined) return;
  verified.warm = {
    form: req.form,
    pathTenant: req.pathTenant,
    tenantHold,
    tenant,
    scope,
    token,
    count: deps.usageCounter(verified.appliance.clientId, tenantId),
  };
}

export async function issueToken(deps: VendDeps, req: TokenRequest): Promise<Vended> {
  const { appliance } = await authenticate(deps, req);
  const { scope, tenantId } = checkGrant(deps, req, appliance);
  const tenant = await deps.directory.tenant(tenantId);
  checkTenant(req, tenantId, tenant, scope);

  let token;
  try {
    token = await deps.tokens.get(
      tenantId,
      scope,
      replicationExpectation(deps.profiles, tenant, scope, deps.now().getTime()),
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
  return vended(deps, appliance.clientId, tenantId, token, scope, deps.now().getTime());
}

/** After client authentication: the grant type, the scope against the appliance's profiles, a bound tenant. */
function checkGrant(
  deps: Pick<VendDeps, 'profiles'>,
  req: TokenRequest,
  appliance: Appliance,
): { scope: string; tenantId: string } {
  const grantType = req.form.get('grant_type');
  if (!grantType) throw new InvalidRequest('grant_type is required.');
  if (grantType !== 'client_credentials') throw new UnsupportedGrantType();

  const scope = resolveScope(deps.profiles, appliance.profiles, req.form.get('scope'));

  const tenantId = appliance.tenantId;
  if (!tenantId) {
    throw new InvalidGrant(
      'This appliance is not bound to a tenant yet: an administrator of the customer tenant must complete the consent (POST /appliance/onboardings).',
    );
  }
  return { scope, tenantId };
}

/** The bound tenant: the path's tenant names it, its consent is proven and in force, and grants the scope. */
function checkTenant(
  req: TokenRequest,
  tenantId: string,
  tenant: TenantRecord | undefined,
  scope: string,
): asserts tenant is TenantRecord {
  if (req.pathTenant !== undefined) assertPathTenant(req.pathTenant, tenantId, tenant?.verifiedDomains ?? []);
  if (!tenant)
    throw new InvalidGrant(
      `No consent is recorded for tenant ${tenantId}: an administrator of that tenant must consent first.`,
    );
  switch (tenant.status) {
    case 'active':
    case 'degraded':
      break;
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
  if ((tenant.grantedRoles[scope] ?? []).length === 0) {
    throw new InvalidGrant(
      `Tenant ${tenantId} has granted no permission for ${scope}: an administrator must consent to it.`,
    );
  }
}

/**
 * Within REPLICATION_WINDOW_SECONDS of the tenant's consent, the roles its profiles need on
 * `scope` (less those its proof found missing), so that the token cache keeps a token lacking one only briefly
 * (src/tokens/token-cache.ts). Undefined after the window, or when no profile of the tenant uses the scope.
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
    if (profile?.resource.scope !== scope) continue;
    const missing = tenant.missingRoles[name] ?? [];
    for (const role of profile.roles) if (!missing.includes(role.value)) roles.add(role.value);
  }
  return roles.size ? { roles: [...roles], untilMs } : undefined;
}

function vended(
  deps: Pick<VendDeps, 'recordUsage'>,
  clientId: string,
  tenantId: string,
  token: VendedToken,
  scope: string,
  nowMs: number,
): Vended {
  deps.recordUsage(clientId, tenantId);
  return answer(token, scope, nowMs);
}

function answer(token: VendedToken, scope: string, nowMs: number): Vended {
  return { token, expiresIn: Math.max(0, Math.floor((token.expiresOn.getTime() - nowMs) / 1000)), scope };
}

/** Scopes already resolved, per vendor profiles and appliance profile list (a record's own array): the warm path's lookup. */
const resolvedScopes = new WeakMap<Profiles, WeakMap<readonly string[], Map<string, string>>>();

/** RFC 6749 §3.3 / FACTS.md §2: one resource's `.default` scope, one the appliance's profiles allow. */
function resolveScope(profiles: Profiles, allowed: readonly string[], raw: string | undefined): string {
  let byList = resolvedScopes.get(profiles);
  if (byList === undefined) resolvedScopes.set(profiles, (byList = new WeakMap()));
  const known = raw === undefined ? undefined : byList.get(allowed)?.get(raw);
  if (known !== undefined) return known;
  const scope = resolveScopeFully(profiles, allowed, raw);
  let forList = byList.get(allowed);
  if (forList === undefined) byList.set(allowed, (forList = new Map()));
  // Bounded per list: a client cycling through spellings of a scope cannot grow it without end.
  if (forList.size < 16) forList.set(raw!, scope);
  return scope;
}

function resolveScopeFully(profiles: Profiles, allowed: readonly string[], raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '')
    throw new InvalidScope(
      'scope is required: a resource .default scope such as https://outlook.office365.com/.default.',
    );
  const scopes = raw.trim().split(/ +/);
  if (scopes.length > 1) throw new InvalidScope('Ask for one resource .default scope per request.');
  const scope = scopes[0]!;
  if (!scope.endsWith('/.default'))
    throw new InvalidScope(
      'Only a resource .default scope can be used with client credentials (e.g. https://outlook.office365.com/.default).',
    );
  const resource = profiles.resourceForScope(scope);
  if (!resource) throw new InvalidScope('The scope is not a resource this broker serves.');
  if (!allowed.some((p) => profiles.get(p)?.resource.scope === resource.scope)) {
    throw new InvalidScope("The scope is not allowed by this appliance's profiles.");
  }
  return resource.scope;
}

function assertPathTenant(pathTenant: string, tenantId: string, domains: readonly string[]): void {
  const t = pathTenant.toLowerCase();
  if (t === 'organizations' || t === tenantId || domains.some((d) => d.toLowerCase() === t)) return;
  throw new UnauthorizedClient(
    "This client may get tokens only for its own tenant; the path names another (use its tenant id, one of its verified domains, or 'organizations').",
  );
}
