/**
 * `AdminSignIn` on @azure/msal-node 7: the same per-tenant ConfidentialClientApplication, credential and
 * network client as the app-token adapter (tenant-clients.ts `createTenantClients`), so the same authority rules
 * apply (`knownAuthorities`, our fetch client keeping Retry-After).
 *
 * - `getAuthCodeUrl` builds the authorize URL (FACTS.md §14). MSAL always adds `openid profile
 *   offline_access` to the scopes (`npm:@azure/msal-common@16.17.0:dist/request/RequestParameterBuilder.mjs`
 *   addScopes with OIDC_DEFAULT_SCOPES), and `client_info=1`.
 * - `acquireTokenByCode` with the expected `nonce` *in the request*: MSAL compares it with the ID token's
 *   (`nonce_mismatch`) and ignores a nonce given only in its second argument (FACTS.md §14;
 *   `dist/client/ClientApplication.mjs`, `msal-common dist/response/ResponseHandler.mjs`). State is the
 *   caller's to check, so no second argument is passed.
 * - MSAL decodes the ID token but never checks its signature, issuer, audience or lifetime
 *   (ResponseHandler.mjs `extractTokenClaims`): this file verifies them with jose against the tenant's
 *   published keys (`{authority}/discovery/v2.0/keys`, FACTS.md §4.3).
 * - Because `offline_access` is always asked for, Entra returns a refresh token that MSAL caches with the
 *   account: the account is removed from MSAL's cache at once, so no admin's tokens stay in memory.
 * - `authorizationUrl` first checks that Entra knows the tenant, by reading its OpenID configuration
 *   (`{authority host}/{tenant}/v2.0/.well-known/openid-configuration`). For login.microsoftonline.com and the
 *   national clouds MSAL builds the URL from its built-in endpoint table without any request
 *   (`npm:@azure/msal-common@16.17.0:dist/authority/AuthorityMetadata.mjs` EndpointMetadata, used by
 *   `Authority.mjs` updateEndpointMetadataFromLocalSources before the network), so without this check a forged
 *   callback naming a tenant Microsoft does not know sends the browser on to Microsoft's error page instead of
 *   the broker's AADSTS90002 page. Entra answers an unknown tenant there with 400
 *   `invalid_tenant` and AADSTS90002 (the body as in james-gould/azure-keyvault-emulator#324; MSAL for Python,
 *   AzureAD/microsoft-authentication-library-for-python:msal/authority.py `tenant_discovery`: "Nonexist tenant
 *   would hit this path", any 4xx). Known tenants are remembered for `TENANT_CHECK_TTL_MS` (at most
 *   `maxTenants` of them); unknown ones are not, so a tenant created since is found at once.
 * @module
 */
import type { Issuers } from '../../cloud/clouds.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ResponseMode, type AuthenticationResult } from '@azure/msal-node';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import {
  TENANT_PATTERN,
  createTenantClients,
  type EntraCredential,
  type MsalEntraConfig,
  type TenantClient,
} from './tenant-clients.js';
import { fromMsalError } from './msal-errors.js';
import { EntraRefused, EntraUnavailable } from './port.js';
import {
  SignInRefused,
  type AdminSignIn,
  type AuthorizationUrlRequest,
  type RedeemCodeRequest,
  type SignedInUser,
  type GrantSignedIn,
  type UserAccessToken,
} from './sign-in.js';

export interface MsalAdminSignInConfig {
  /** e.g. https://login.microsoftonline.com, a national cloud, or the sandbox simulator. */
  readonly authorityHost: string;
  /**
   * The cloud's token issuers (src/cloud/clouds.ts). Not derived from the authority host: in Azure China the
   * authority is login.chinacloudapi.cn and ID tokens name login.partner.microsoftonline.cn.
   */
  readonly issuers: Issuers;
  /** The home app. Its manifest should set groupMembershipClaims (for `wids`) and the `acct` optional claim. */
  readonly clientId: string;
  readonly credential: EntraCredential;
  /**
   * Tenants whose MSAL client and key set are kept (least recently used dropped). Default 500: sign-ins are
   * rare and anonymous callbacks can name any tenant id, so the bound is small (a dropped client only
   * re-reads its tenant's metadata at the next sign-in); the app-token adapter's 20,000 (msal.ts) is for
   * the tenants tokens are vended for.
   */
  readonly maxTenants?: number;
  /** Per-request timeout, also for the key set. Default 10 s. */
  readonly timeoutMs?: number;
  /** Where each HTTP request to Entra is reported (msal-network.ts `EntraNetwork`); none by default. */
  readonly metrics?: MsalEntraConfig['metrics'];
}

/** The scopes of the sign-in (SPEC.md: `openid profile`; `profile` is needed for `oid`, id-token-claims-reference). */
const SCOPES = ['openid', 'profile'];
/** Clock skew allowed on `exp` / `nbf`: 5 minutes, the usual figure for Entra tokens (**unverified** as Microsoft's). */
const CLOCK_TOLERANCE_SECONDS = 300;
const DEFAULT_UNAVAILABLE_SECONDS = 5;
/** How long a tenant Entra knows is remembered: tenants are seldom deleted, and a sign-in follows a consent. */
export const TENANT_CHECK_TTL_MS = 10 * 60_000;
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * The answer to `GET {authority}/v2.0/.well-known/openid-configuration`, in the port's words: a configuration
 * naming an authorization endpoint means the tenant exists; a 4xx is Entra refusing the tenant (AADSTS90002
 * for one it does not know).
 */
function tenantCheckResult(status: number, body: unknown): SignInRefused | undefined {
  const doc = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (status >= 200 && status < 300) {
    if (typeof doc.authorization_endpoint === 'string' && typeof doc.issuer === 'string') return undefined;
    return new SignInRefused(
      'invalid_response',
      undefined,
      'Entra ID answered the tenant OpenID configuration without an authorization endpoint',
    );
  }
  const codes = Array.isArray(doc.error_codes) ? doc.error_codes : [];
  const line =
    typeof doc.error_description === 'string' ? (doc.error_description.split(/\r?\n/)[0] ?? '') : '';
  const aadsts = typeof codes[0] === 'number' ? String(codes[0]) : /^AADSTS(\d+)/.exec(line)?.[1];
  return new SignInRefused(
    typeof doc.error === 'string' ? doc.error : `http_${status}`,
    aadsts,
    line || `Entra ID refused the tenant (HTTP ${status})`,
  );
}

/** Entra's refusal (or a local MSAL refusal) in the port's words; outages stay EntraUnavailable. */
function toSignInError(err: Error): Error {
  if (err instanceof EntraUnavailable) return err;
  if (err instanceof EntraRefused)
    return new SignInRefused(err.error, err.aadsts, err.message, { cause: err });
  return err;
}

function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function text(claims: JWTPayload, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * A guest (FACTS.md §14): `acct` = 1, or an `idp` naming another tenant than `tid`. id-token-claims-reference:
 * `idp` "is identical to the value of the issuer claim unless the user account isn't in the same tenant as
 * the issuer - guests, for instance"; a member's `idp`, where sent, may use the v1 STS form
 * (https://sts.windows.net/{tid}/), so the tenant it names is compared, not the text. An `idp` without a
 * tenant id (`live.com`, another IdP) is a guest.
 */
function isGuest(claims: JWTPayload, tid: string): boolean {
  if (claims.acct === 1 || claims.acct === '1') return true;
  const idp = text(claims, 'idp');
  if (idp === undefined) return false;
  const idpTenant = GUID.exec(idp)?.[0];
  return idpTenant === undefined || idpTenant.toLowerCase() !== tid.toLowerCase();
}

function toSignedInUser(claims: JWTPayload): SignedInUser {
  const tid = text(claims, 'tid');
  const oid = text(claims, 'oid');
  const iss = text(claims, 'iss');
  if (!tid || !oid || !iss)
    throw new SignInRefused('invalid_id_token', undefined, 'The ID token lacks tid, oid or iss');
  const wids = Array.isArray(claims.wids)
    ? claims.wids.filter((w): w is string => typeof w === 'string')
    : [];
  // `roles`: the app roles of the signed-in app assigned to the user ("When a user signs in to the application,
  // Microsoft Entra ID emits a roles claim for each role that the user or service principal was granted":
  // https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps).
  const appRoles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return {
    tenantId: tid.toLowerCase(),
    objectId: oid.toLowerCase(),
    displayName: text(claims, 'name') ?? text(claims, 'preferred_username') ?? '',
    directoryRoleIds: wids,
    appRoles,
    isGuest: isGuest(claims, tid),
    issuer: iss,
  };
}

export function createMsalAdminSignIn(config: MsalAdminSignInConfig): AdminSignIn {
  const host = config.authorityHost.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 10_000;
  const maxTenants = config.maxTenants ?? 500;
  // The bound passed on: createTenantClients' own default is the app-token adapter's 20,000.
  const clientFor = createTenantClients({ ...config, maxTenants });
  const keySets = new Map<string, JWTVerifyGetKey>();
  /** Tenants Entra has said it knows: lower-case name → when that was learnt (ms); least recently used first. */
  const knownTenants = new Map<string, number>();

  function assertTenantName(tenantId: string): void {
    if (!TENANT_PATTERN.test(tenantId))
      throw new SignInRefused('invalid_tenant', undefined, 'Tenant must be a GUID or a domain name');
  }

  /**
   * Resolves when Entra knows the tenant (its OpenID configuration is there), rejects with `SignInRefused` when
   * Entra refuses it (AADSTS90002: unknown tenant) and with `EntraUnavailable` on a timeout, 429 or 5xx.
   */
  async function assertTenantExists(tenantId: string, client: TenantClient): Promise<void> {
    const key = tenantId.toLowerCase();
    const learnt = knownTenants.get(key);
    if (learnt !== undefined) {
      knownTenants.delete(key);
      if (Date.now() - learnt < TENANT_CHECK_TTL_MS) {
        knownTenants.set(key, learnt); // most recently used last
        return;
      }
    }
    let response: { status: number; body: unknown };
    try {
      // The sign-in client's own network: the same timeouts, Retry-After handling and metrics ('metadata').
      response = await client.network.sendGetRequestAsync<unknown>(
        `${host}/${encodeURIComponent(key)}/v2.0/.well-known/openid-configuration`,
      );
    } catch (err) {
      throw toSignInError(fromMsalError(err, client.network));
    }
    const refused = tenantCheckResult(response.status, response.body);
    if (refused) throw refused;
    knownTenants.set(key, Date.now());
    while (knownTenants.size > maxTenants) {
      const oldest = knownTenants.keys().next().value;
      if (oldest === undefined) break;
      knownTenants.delete(oldest);
    }
  }

  /** The tenant's published signing keys; jose caches them and refetches for an unknown `kid`. */
  function keysFor(tenantId: string): JWTVerifyGetKey {
    const key = tenantId.toLowerCase();
    let set = keySets.get(key);
    if (set) keySets.delete(key);
    // FACTS.md §4.3: keys are refreshed about every 24 h.
    set ??= createRemoteJWKSet(new URL(`${host}/${key}/discovery/v2.0/keys`), {
      timeoutDuration: timeoutMs,
      cacheMaxAge: 24 * 3_600_000,
    });
    keySets.set(key, set);
    while (keySets.size > maxTenants) {
      const oldest = keySets.keys().next().value;
      if (oldest === undefined) break;
      keySets.delete(oldest);
    }
    return set;
  }

  async function verifyIdToken(idToken: string, request: RedeemCodeRequest): Promise<JWTPayload> {
    let claims: JWTPayload;
    try {
      // id-token-claims-reference: `aud` is the app's client id; signed with RS256 (v2 metadata).
      ({ payload: claims } = await jwtVerify(idToken, keysFor(request.tenantId), {
        algorithms: ['RS256'],
        audience: config.clientId,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'exp', 'iat', 'tid', 'nonce'],
      }));
    } catch (err) {
      throw fromJoseError(err);
    }
    const tid = text(claims, 'tid') ?? '';
    // FACTS.md §4.2/§14, §15: the cloud's v2 issuer of the token's own tid.
    if (claims.iss !== config.issuers.v2Issuer(tid))
      throw new SignInRefused(
        'invalid_id_token',
        undefined,
        `Unexpected ID token issuer ${String(claims.iss)}`,
      );
    // MSAL already compared the nonce; checked again so the guarantee does not rest on MSAL alone.
    if (typeof claims.nonce !== 'string' || !sameText(claims.nonce, request.nonce))
      throw new SignInRefused('nonce_mismatch', undefined, 'The ID token nonce does not match the request');
    return claims;
  }

  return {
    async authorizationUrl(request: AuthorizationUrlRequest): Promise<string> {
      assertTenantName(request.tenantId);
      const client = clientFor(request.tenantId);
      // Before the browser is sent on: MSAL itself asks Entra nothing on Microsoft's hosts (module comment).
      await assertTenantExists(request.tenantId, client);
      try {
        return await client.app.getAuthCodeUrl({
          scopes: request.scopes ? [...request.scopes, ...SCOPES] : SCOPES,
          redirectUri: request.redirectUri,
          state: request.state,
          nonce: request.nonce,
          codeChallenge: request.codeChallenge,
          codeChallengeMethod: 'S256',
          responseMode: ResponseMode.QUERY,
          ...(request.prompt ? { prompt: request.prompt } : {}),
          ...(request.loginHint ? { loginHint: request.loginHint } : {}),
        });
      } catch (err) {
        throw toSignInError(fromMsalError(err, client.network));
      }
    },

    async redeemCode(request: RedeemCodeRequest): Promise<SignedInUser> {
      assertTenantName(request.tenantId);
      const client = clientFor(request.tenantId);
      let result: AuthenticationResult | null;
      try {
        result = await client.app.acquireTokenByCode({
          code: request.code,
          scopes: SCOPES,
          redirectUri: request.redirectUri,
          codeVerifier: request.codeVerifier,
          // FACTS.md §14: the expected nonce goes in the request, or MSAL does not compare it.
          nonce: request.nonce,
        });
      } catch (err) {
        throw toSignInError(fromMsalError(err, client.network));
      }
      if (result?.account) await client.app.getTokenCache().removeAccount(result.account);
      if (!result?.idToken)
        throw new SignInRefused('invalid_id_token', undefined, 'Entra ID returned no ID token');
      return toSignedInUser(await verifyIdToken(result.idToken, request));
    },

    async redeemGrantCode(request): Promise<GrantSignedIn> {
      assertTenantName(request.tenantId);
      const client = clientFor(request.tenantId);
      let result: AuthenticationResult | null;
      try {
        result = await client.app.acquireTokenByCode({
          code: request.code,
          scopes: [...request.scopes],
          redirectUri: request.redirectUri,
          codeVerifier: request.codeVerifier,
          nonce: request.nonce,
        });
      } catch (err) {
        throw toSignInError(fromMsalError(err, client.network));
      }
      const refreshToken = await takeRefreshToken(client, result);
      if (!result?.idToken)
        throw new SignInRefused('invalid_id_token', undefined, 'Entra ID returned no ID token');
      const claims = await verifyIdToken(result.idToken, request);
      if (!refreshToken)
        throw new SignInRefused(
          'no_refresh_token',
          undefined,
          'Entra ID returned no refresh token (offline_access)',
        );
      return {
        user: toSignedInUser(claims),
        userPrincipalName: (text(claims, 'preferred_username') ?? '').toLowerCase(),
        refreshToken,
      };
    },

    async redeemRefreshToken(request): Promise<UserAccessToken> {
      assertTenantName(request.tenantId);
      const client = clientFor(request.tenantId);
      let result: AuthenticationResult | null;
      try {
        result = await client.app.acquireTokenByRefreshToken({
          refreshToken: request.refreshToken,
          scopes: [...request.scopes],
          // Store what Entra answers although the account is not in MSAL's cache (it never is: module comment),
          // or MSAL drops the new refresh token ("Account used to refresh tokens not in persistence":
          // npm:@azure/msal-common@16.17.0:dist/response/ResponseHandler.mjs handleServerTokenResponse).
          forceCache: true,
        });
      } catch (err) {
        throw toSignInError(fromMsalError(err, client.network));
      }
      const refreshToken = await takeRefreshToken(client, result);
      if (!result?.accessToken || !result.expiresOn)
        throw new SignInRefused('invalid_grant', undefined, 'Entra ID returned no access token');
      return { accessToken: result.accessToken, expiresOn: result.expiresOn, refreshToken };
    },
  };
}

/**
 * The refresh token that came with `result`: MSAL keeps it in its cache and never returns it, so it is read there,
 * for this account only (other sign-ins of the tenant share the client), and the account is then dropped, so
 * that no user's token stays in this process's MSAL cache (the broker keeps it sealed: src/grants/custody.ts).
 */
async function takeRefreshToken(
  client: TenantClient,
  result: AuthenticationResult | null,
): Promise<string | undefined> {
  const account = result?.account;
  if (!account) return undefined;
  const refreshToken = refreshTokenOf(client.app.getTokenCache().serialize(), account.homeAccountId);
  await client.app.getTokenCache().removeAccount(account);
  return refreshToken;
}

/**
 * The refresh token of one account in MSAL's serialized cache (`RefreshToken` entries with `home_account_id` and
 * `secret`: `npm:@azure/msal-node` cache/serializer/SerializerTypes `SerializedRefreshTokenEntity`).
 */
function refreshTokenOf(serialized: string, homeAccountId: string): string | undefined {
  const cache = JSON.parse(serialized) as {
    RefreshToken?: Record<string, { home_account_id?: string; secret?: string }>;
  };
  for (const entry of Object.values(cache.RefreshToken ?? {}))
    if (entry.home_account_id === homeAccountId && typeof entry.secret === 'string') return entry.secret;
  return undefined;
}

/** Key-set outages are EntraUnavailable; a token that fails a check is SignInRefused('invalid_id_token'). */
function fromJoseError(err: unknown): Error {
  if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError))
    // A timeout, or fetch itself failing (TypeError: fetch failed): the key endpoint is unreachable.
    return new EntraUnavailable(DEFAULT_UNAVAILABLE_SECONDS, 'Entra ID signing keys unavailable', {
      cause: err,
    });
  // jose (dist/webapi/jwks/remote.js): any non-200 answer from the key set URL.
  if (err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(err.message))
    return new EntraUnavailable(DEFAULT_UNAVAILABLE_SECONDS, 'Entra ID signing keys unavailable', {
      cause: err,
    });
  const claim = err instanceof joseErrors.JWTClaimValidationFailed ? ` (${err.claim})` : '';
  return new SignInRefused('invalid_id_token', undefined, `ID token rejected: ${err.code}${claim}`, {
    cause: err,
  });
}
