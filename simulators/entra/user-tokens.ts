/**
 * The tokens Entra ID issues when an authorization code or a refresh token is redeemed: a v2.0 ID token for
 * the client (`MicrosoftDocs/entra-docs:docs/identity-platform/id-token-claims-reference.md`, FACTS.md §14), a
 * delegated access token — for the resource the scopes name (delegated-scopes.ts), or for Microsoft Graph
 * (`User.Read`, the permission every sign-in carries) when they name OpenID Connect scopes only — and, with
 * `offline_access`, a refresh token (refresh-token.ts).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SimContext } from '../context.js';
import { v1Issuer, v2Issuer } from '../common/clouds.js';
import type { SimApp, SimTenant, SimUser } from '../common/world.js';
import { delegatedTarget } from './delegated-scopes.js';
import { issueRefreshToken } from './refresh-token.js';

export interface UserTokenRequest {
  readonly tenant: SimTenant;
  readonly app: SimApp;
  readonly user: SimUser;
  /** Scopes the code was issued for (the authorize request's `scope`). */
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly nowMs: number;
  /**
   * The scopes of the sign-in the tokens come from, which a refresh token carries on (the authorize request's,
   * for a code); default `scopes`.
   */
  readonly grantedScopes?: readonly string[];
}

export interface IssuedUserTokens {
  readonly idToken: string | undefined;
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly refreshToken: string | undefined;
  /** base64url JSON `{uid, utid}`, what Entra returns for `client_info=1` (MSAL sends it on every request). */
  readonly clientInfo: string;
}

/** The ID token lifetime: one hour (**unverified** as a fixed figure; the docs give none for ID tokens). */
const ID_TOKEN_LIFETIME_SECONDS = 3600;

/** `sub` is pairwise: "unique to an application ID" (id-token-claims-reference.md). */
function pairwiseSub(appId: string, tenantId: string, objectId: string): string {
  return createHash('sha256').update(`${appId}|${tenantId}|${objectId}`).digest('base64url').slice(0, 43);
}

export async function issueUserTokens(ctx: SimContext, req: UserTokenRequest): Promise<IssuedUserTokens> {
  const { tenant, app, user } = req;
  const iat = Math.floor(req.nowMs / 1000);
  const scopes = new Set(req.scopes.map((s) => s.toLowerCase()));
  const issuer = v2Issuer(ctx.world.cloud, tenant.id);
  // id-token-claims-reference.md: `idp` differs from `iss` for guests (their home tenant's STS); absent
  // means "use iss". FACTS.md §14: a guest's `tid` is the resource tenant's.
  const idp = user.guest ? v1Issuer(ctx.world.cloud, user.homeTenantId) : undefined;
  const optional = new Set(app.idTokenOptionalClaims ?? []);
  // FACTS.md §14: `wids` only when the manifest's groupMembershipClaims is DirectoryRole or All.
  const wantsWids = app.groupMembershipClaims === 'DirectoryRole' || app.groupMembershipClaims === 'All';
  const profile = scopes.has('profile');

  let idToken: string | undefined;
  if (scopes.has('openid')) {
    const claims: Record<string, unknown> = {
      aud: app.appId,
      iss: issuer,
      iat,
      nbf: iat,
      exp: iat + ID_TOKEN_LIFETIME_SECONDS,
      ...(idp ? { idp } : {}),
      ...(profile ? { name: user.displayName, preferred_username: user.userPrincipalName } : {}),
      // id-token-claims-reference.md: `oid` needs the profile scope.
      ...(profile ? { oid: user.objectId } : {}),
      ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
      rh: '0.sim',
      sub: pairwiseSub(app.appId, tenant.id, user.objectId),
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
      aio: randomBytes(24).toString('base64url'),
      ...(wantsWids && user.directoryRoles.length > 0 ? { wids: [...user.directoryRoles] } : {}),
      // The app's roles assigned to the user: "When a user signs in to the application, Microsoft Entra ID emits
      // a roles claim for each role that the user … was granted" (learn.microsoft.com/entra/identity-platform/
      // howto-add-app-roles-in-apps); absent when none.
      ...((user.appRoles[app.appId] ?? []).length > 0 ? { roles: [...user.appRoles[app.appId]!] } : {}),
      // optional-claims: `acct` 0 = member of the tenant, 1 = guest (FACTS.md §14).
      ...(optional.has('acct') ? { acct: user.guest ? 1 : 0 } : {}),
      ...(scopes.has('email') && user.userPrincipalName.includes('@')
        ? { email: user.userPrincipalName }
        : {}),
    };
    idToken = await ctx.keys.sign(claims);
  }

  // A delegated token in v1.0 format (FACTS.md §4.1: Graph tokens are opaque to clients; Graph's `nonce`
  // header). For the resource the scopes name, with their values as `scp`; for OpenID Connect scopes only, a
  // Graph token whose exact `scp` Entra chooses is **unverified**.
  const target = delegatedTarget(ctx.world, app, req.scopes);
  const lifetime = 3600 + Math.floor(Math.random() * 1800);
  const graphScp = ['openid', 'profile', 'email'].filter((s) => scopes.has(s)).concat('User.Read');
  const audience = target?.audience ?? ctx.world.cloud.graphUris[0]!;
  const scp = target ? [...target.values] : graphScp;
  const resourceAppId = target?.resource.appId ?? '00000003-0000-0000-c000-000000000000';
  const accessToken = await ctx.keys.sign(
    {
      aud: audience,
      iss: v1Issuer(ctx.world.cloud, tenant.id),
      iat,
      nbf: iat,
      exp: iat + lifetime,
      ...(idp ? { idp } : {}),
      acct: user.guest ? 1 : 0,
      app_displayname: app.displayName,
      appid: app.appId,
      appidacr: '1',
      idtyp: 'user',
      name: user.displayName,
      oid: user.objectId,
      scp: scp.join(' '),
      sub: pairwiseSub(resourceAppId, tenant.id, user.objectId),
      tid: tenant.id,
      unique_name: user.userPrincipalName,
      upn: user.userPrincipalName,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...(wantsWids && user.directoryRoles.length > 0 ? { wids: [...user.directoryRoles] } : {}),
    },
    { x5t: ctx.keys.kid, nonce: randomBytes(16).toString('base64url') },
  );
  // v2-oauth2-auth-code-flow.md: `refresh_token` "Only provided if offline_access scope was requested".
  const granted = req.grantedScopes ?? req.scopes;
  const refreshToken = granted.some((s) => s.toLowerCase() === 'offline_access')
    ? issueRefreshToken(ctx.world, {
        clientId: app.appId,
        tenantId: tenant.id,
        userObjectId: user.objectId,
        scopes: granted,
      })
    : undefined;
  // The response's `scope`: the token's permissions as `{resource}/{value}` (auth-code doc, "Successful
  // response": "The scopes that the access_token is valid for"), the OpenID Connect ones as asked.
  const responseScopes = ['openid', 'profile', 'email']
    .filter((s) => scopes.has(s))
    .concat(
      target ? scp.map((v) => `${audience}/${v}`) : ['https://graph.microsoft.com/User.Read'],
      refreshToken ? ['offline_access'] : [],
    );
  // client_info: the home account (`uid`.`utid` is MSAL's home account id). For a guest this is their home
  // tenant; the simulator has no link to the home user object and uses the guest's object id (**simplified**).
  const clientInfo = Buffer.from(
    JSON.stringify({ uid: user.objectId, utid: user.guest ? user.homeTenantId : tenant.id }),
  ).toString('base64url');
  return {
    idToken,
    accessToken,
    expiresIn: lifetime,
    scope: responseScopes.join(' '),
    refreshToken,
    clientInfo,
  };
}

/** The token endpoint's answer for user tokens (auth-code doc, "Successful response"); `client_info` for MSAL's `client_info=1`. */
export function userTokenResponse(tokens: IssuedUserTokens, form: URLSearchParams) {
  return {
    status: 200,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    body: {
      token_type: 'Bearer',
      scope: tokens.scope,
      expires_in: tokens.expiresIn,
      ext_expires_in: tokens.expiresIn,
      access_token: tokens.accessToken,
      ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
      ...(tokens.idToken ? { id_token: tokens.idToken } : {}),
      ...(form.get('client_info') === '1' ? { client_info: tokens.clientInfo } : {}),
    },
  };
}
