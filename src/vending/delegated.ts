/**
 * `grant_type=refresh_token` at the token endpoint (README "Delegated mailboxes"): the appliance presents the
 * broker handle of one of its mailbox grants as `refresh_token` (never Microsoft's: the broker keeps that one,
 * src/grants/custody.ts) and gets the grant user's access token for one of the grant's delegated scopes, with the
 * same handle as `refresh_token` again (RFC 6749 §6; Entra answers a refresh the same way, with a new one). Client
 * authentication is the client-credentials one (src/vending/authenticate.ts, throttled); a handle of another
 * appliance, of a grant that is not active, or for a scope the grant does not allow, is `invalid_grant` /
 * `invalid_scope` with the reason, and nothing about another appliance's grants. The handle is shown to the
 * appliance (GET /appliance/mailbox-grants/{grantId}) until its first use here, never after.
 * @module
 */
import { EntraRefused } from '../adapters/entra/port.js';
import { RowChanged } from '../adapters/tables/port.js';
import { grantKey } from '../directory/change-journal.js';
import { NOT_CACHED } from '../directory/record-directory.js';
import { effectiveGrantStatus, type MailboxGrant, type MailboxGrantStore } from '../grants/grant-store.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { rememberedClient } from './client-auth.js';
import { assertConsentInForce } from './issue.js';
import { tokenResponseBody } from './warm-path.js';
import type { Profiles } from '../profiles/profiles.js';
import type { Appliance } from '../appliances/appliance-store.js';
import { GRAPH_APP_ID, GUID } from '../ids.js';
import { authenticate, type ThrottledAuthDeps } from './authenticate.js';
import { InvalidClient, InvalidGrant, InvalidRequest, InvalidScope, UnauthorizedClient } from './errors.js';
import type { TokenRequest } from './issue.js';
import type { TokenCache } from './token-cache-contract.js';

export interface DelegatedVendDeps extends ThrottledAuthDeps {
  readonly mailboxGrants: MailboxGrantStore;
  /** Grants' access tokens per (grant, scope): src/grants/grant-tokens.ts `grantTokenSource`. */
  readonly grantTokens: TokenCache;
  readonly profiles: Profiles;
  readonly now: () => Date;
}

/** RFC 6749 §5.1 answer of a refresh, with the broker handle as `refresh_token`. */
export interface DelegatedTokenResponse {
  readonly token_type: 'Bearer';
  readonly access_token: string;
  readonly expires_in: number;
  readonly scope: string;
  readonly refresh_token: string;
}

/** Scopes that ask for nothing of a resource (OpenID Connect's and offline_access), as Entra reads them. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * The appliance asking: a public client by its `client_id` alone, or a confidential one authenticated as at the
 * token endpoint (throttled). A public client's id is no secret: what it gets is only ever a user's sign-in.
 */
export async function grantClient(deps: DelegatedVendDeps, req: TokenRequest): Promise<Appliance> {
  const f = req.form;
  if (
    req.authorization !== null ||
    f.has('client_secret') ||
    f.has('client_assertion') ||
    f.has('client_assertion_type')
  )
    return (await authenticate(deps, req)).appliance;
  const clientId = f.get('client_id');
  if (!clientId) throw new InvalidRequest('client_id is required.');
  const appliance = GUID.test(clientId) ? await deps.directory.appliance(clientId.toLowerCase()) : undefined;
  if (!appliance || appliance.status !== 'active' || appliance.authMethod !== 'none')
    throw new InvalidClient(
      'Client authentication is required: client_secret_basic, client_secret_post or private_key_jwt (only a public client may send client_id alone).',
    );
  return appliance;
}

/**
 * The scope of `allowed` (profiles' `tokenScope`s) that `asked` names: as spelled there, or on another spelling
 * of the same resource (`https://outlook.office.com/SMTP.Send`, as Microsoft's IMAP/POP/SMTP page writes it, for
 * `https://outlook.office365.com/SMTP.Send`), or a bare Graph scope (`Mail.Send`), which Entra reads as Graph's.
 */
export function delegatedScope(
  profiles: Profiles,
  allowed: readonly string[],
  asked: string,
): string | undefined {
  const lower = asked.toLowerCase();
  const exact = allowed.find((s) => s.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const split = (s: string) => {
    const i = s.lastIndexOf('/');
    const resource =
      i < 0
        ? [...profiles.resources.values()].find((r) => r.appId === GRAPH_APP_ID)
        : profiles.resourceForScope(`${s.slice(0, i)}/.default`);
    return { resource, value: s.slice(i + 1).toLowerCase() };
  };
  const want = split(asked);
  if (!want.resource) return undefined;
  return allowed.find((s) => {
    const have = split(s);
    return have.resource === want.resource && have.value === want.value;
  });
}

export async function issueGrantToken(
  deps: DelegatedVendDeps,
  req: TokenRequest,
): Promise<DelegatedTokenResponse> {
  const appliance = await grantClient(deps, req);
  const handle = req.form.get('refresh_token');
  const known =
    handle !== undefined && HANDLE.test(handle) ? await deps.directory.grantByHandle(handle) : undefined;
  const tenant = appliance.tenantId ? await deps.directory.tenant(appliance.tenantId) : undefined;
  const { grant, scope } = checkGrantRequest(deps, req, appliance, known, tenant);
  let token;
  try {
    token = await deps.grantTokens.get(grantKey(grant.tenantId, grant.id), scope);
  } catch (err) {
    if (err instanceof EntraRefused)
      throw err.error === 'invalid_scope' ? new InvalidScope(err.message) : new InvalidGrant(err.message);
    throw err;
  }
  if (grant.handle !== null) {
    // First use: the handle is shown no more (the appliance has it). The grant as it now is, re-read: the
    // token's redemption may have written a rotated refresh token.
    const now = (await deps.mailboxGrants.get(grant.tenantId, grant.id)) ?? grant;
    await deps.mailboxGrants
      .update({ ...now, handle: null, handleUsedAt: deps.now().toISOString() })
      .catch((err: unknown) => {
        if (!(err instanceof RowChanged)) throw err;
      });
  }
  return {
    token_type: 'Bearer',
    access_token: token.accessToken,
    expires_in: Math.max(0, Math.floor((token.expiresOn.getTime() - deps.now().getTime()) / 1000)),
    scope,
    refresh_token: handle!,
  };
}

/**
 * The warm path of a grant's refresh, without a promise (as `vendFromMemory` for client credentials): the
 * answer's JSON when the appliance's credentials were verified before, the grant, its tenant and a vendable token
 * are all in memory and every check of `issueGrantToken` passes; undefined sends the request the full way (which
 * also answers every refusal, and does the handle's first-use write).
 */
export function vendGrantFromMemory(deps: DelegatedVendDeps, req: TokenRequest): string | undefined {
  const handle = req.form.get('refresh_token');
  if (handle === undefined || !HANDLE.test(handle)) return undefined;
  const nowMs = deps.now().getTime();
  const appliance = warmClient(deps, req, nowMs);
  if (appliance === undefined || !appliance.tenantId) return undefined;
  const grant = deps.directory.peekGrantByHandle(handle);
  const tenant = deps.directory.peekTenant(appliance.tenantId);
  if (grant === NOT_CACHED || grant === undefined || grant.handle !== null || tenant === NOT_CACHED)
    return undefined;
  // The checks passed before for these very records and this request's scope and path: they pass again (a
  // changed appliance, grant or tenant is a new object from the directory).
  const asked = req.form.get('scope');
  let passed = checked.get(grant);
  if (
    passed === undefined ||
    passed.appliance !== appliance ||
    passed.tenant !== tenant ||
    passed.asked !== asked ||
    passed.pathTenant !== req.pathTenant
  ) {
    let scope: string;
    try {
      scope = checkGrantRequest(deps, req, appliance, grant, tenant).scope;
    } catch {
      return undefined;
    }
    passed = {
      appliance,
      tenant,
      asked,
      pathTenant: req.pathTenant,
      scope,
      key: grantKey(grant.tenantId, grant.id),
    };
    checked.set(grant, passed);
  }
  const token = deps.grantTokens.peek(passed.key, passed.scope);
  if (token === undefined) return undefined;
  const expiresIn = Math.max(0, Math.floor((token.expiresOn.getTime() - nowMs) / 1000));
  return tokenResponseBody({ token, expiresIn, scope: passed.scope }, handle);
}

/** The last request each grant (as the directory holds it) passed `checkGrantRequest` with, and its outcome. */
const checked = new WeakMap<
  MailboxGrant,
  {
    readonly appliance: Appliance;
    readonly tenant: TenantRecord | undefined;
    readonly asked: string | undefined;
    readonly pathTenant: string | undefined;
    readonly scope: string;
    readonly key: string;
  }
>();

/**
 * The appliance's bound tenant, refusing a path `{tenant}` that names another (`organizations` and `common` name
 * none): the one rule for a grant's refresh and the device-code flow (src/vending/device-code.ts).
 */
export function applianceTenant(appliance: Appliance, req: TokenRequest): string {
  if (!appliance.tenantId) throw new InvalidGrant('This appliance is not bound to a tenant yet.');
  const t = req.pathTenant?.toLowerCase();
  if (t !== undefined && t !== 'organizations' && t !== 'common' && t !== appliance.tenantId)
    throw new UnauthorizedClient(
      'This client may get tokens only for its own tenant; the path names another.',
    );
  return appliance.tenantId;
}

/** A broker handle as `src/grants/grant-sign-in.ts` makes it. */
const HANDLE = /^mbh_[A-Za-z0-9_-]{43}$/;

/** The appliance of a warm request: Basic credentials verified before, or a public client's id; not throttled. */
function warmClient(deps: DelegatedVendDeps, req: TokenRequest, nowMs: number): Appliance | undefined {
  if (req.authorization === null) {
    const f = req.form;
    const clientId = f.get('client_id');
    if (
      clientId === undefined ||
      f.has('client_secret') ||
      f.has('client_assertion') ||
      f.has('client_assertion_type')
    )
      return undefined;
    const a = GUID.test(clientId) ? deps.directory.peekAppliance(clientId.toLowerCase()) : undefined;
    return a !== NOT_CACHED && a?.status === 'active' && a.authMethod === 'none' ? a : undefined;
  }
  const remembered = rememberedClient(deps, req.authorization, req.form, nowMs);
  if (remembered === undefined) return undefined;
  if ((deps.throttle?.blockedFor(remembered.appliance.clientId, req.sourceAddress) ?? 0) > 0)
    return undefined;
  return remembered.appliance;
}

/**
 * Every check of a grant's refresh once its pieces are at hand, the same for the warm and the full path: the
 * handle names a grant of this appliance in its tenant (another appliance's is answered as an unknown one), the
 * path names that tenant, its consent is in force, the grant is active, and the scope asked (one, in any
 * spelling; the grant's first by default) is one of the grant's. Throws the OAuth error; returns the grant and
 * the scope in the profile's spelling (one cache entry per scope however the appliance writes it).
 */
function checkGrantRequest(
  deps: Pick<DelegatedVendDeps, 'profiles' | 'now'>,
  req: TokenRequest,
  appliance: Appliance,
  grant: MailboxGrant | undefined,
  tenant: TenantRecord | undefined,
): { grant: MailboxGrant; scope: string } {
  const handle = req.form.get('refresh_token');
  if (!handle)
    throw new InvalidRequest(
      'refresh_token is required: the handle of one of this appliance’s mailbox grants.',
    );
  const tenantId = applianceTenant(appliance, req);
  if (!grant || grant.applianceId !== appliance.clientId || grant.tenantId !== tenantId)
    throw new InvalidGrant('The refresh_token is not a mailbox grant of this appliance.');
  // The tenant's consent covers every user's delegated scopes: without it, no grant of the tenant works.
  assertConsentInForce(tenantId, tenant);
  const allowed = grant.profiles.flatMap((n) => deps.profiles.get(n)?.scopes ?? []).map((s) => s.tokenScope);
  const asked = (req.form.get('scope') ?? '')
    .split(' ')
    .filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
  if (asked.length > 1) throw new InvalidScope('Ask for the delegated scopes of one resource per request.');
  const scope = asked[0] ?? allowed[0];
  const canonical = scope && delegatedScope(deps.profiles, allowed, scope);
  if (!canonical) throw new InvalidScope(`The grant allows ${allowed.join(', ') || 'no scope'}.`);
  // The grant as this instance knows it (a change anywhere reaches it through the journal): one that is not
  // active is refused here, without Entra and without the cache.
  const status = effectiveGrantStatus(grant, deps.now());
  if (status !== 'active')
    throw new InvalidGrant(
      status === 'reauth_required'
        ? `The user must sign in again (${grant.error?.message ?? 'Microsoft refused the sign-in'}).`
        : `The mailbox grant is ${status}.`,
    );
  return { grant, scope: canonical };
}
