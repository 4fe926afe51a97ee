/**
 * Refresh tokens and the `refresh_token` grant at Entra ID's v2 token endpoint
 * (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow, "Refresh the access token";
 * https://learn.microsoft.com/entra/identity-platform/refresh-tokens, "refresh-token doc" below):
 * - a refresh token is bound to the user and the client, not to a resource: it gets access tokens for any
 *   resource the client may call as that user, and the request's `scope` says which;
 * - every use returns a new refresh token, and the old one is *not* revoked ("The Microsoft identity platform
 *   doesn't revoke old refresh tokens when used to fetch new access tokens");
 * - one unused for 90 days has expired (AADSTS700082: "The refresh token has expired due to inactivity. The
 *   token was issued on {issueDate} and was inactive for {time}."), as has one issued before the user's
 *   sessions were revoked or the password changed (AADSTS50173 FreshTokenNeeded); a disabled user (AADSTS50057),
 *   a Conditional Access policy that now asks for MFA (AADSTS50076) or a sign-in frequency (AADSTS70043), and a
 *   consent that was removed (AADSTS65001) refuse it too (E-ERR: MicrosoftDocs/entra-docs
 *   docs/identity-platform/reference-error-codes.md for each code and its text).
 * Refresh tokens are kept by their SHA-256 in the World, and with its snapshot across sandbox restarts.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SimResponse } from '../common/server.js';
import type { SimRefreshTokenRecord, SimTenant, SimUser, World } from '../common/world.js';
import { identifyClient } from './client-auth.js';
import { unconsentedScopes } from './delegated-scopes.js';
import { EntraError } from './errors.js';
import {
  appNotFound,
  authenticate,
  headerValue,
  missing,
  resolveTenant,
  type GrantRequest,
} from './token.js';
import { issueUserTokens, userTokenResponse } from './user-tokens.js';

/** "The default lifetime for the refresh tokens is … 90 days for all other scenarios" (refresh-token doc). */
export const REFRESH_TOKEN_INACTIVITY_MS = 90 * 24 * 3600 * 1000;

export type SimRefreshToken = SimRefreshTokenRecord;

/** The World's refresh tokens (kept across sandbox restarts with its snapshot). */
const storeOf = (world: World): Map<string, SimRefreshToken> => world.refreshTokens;

const keyOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

/** A new refresh token for this user and client (opaque to clients, like Entra's `1.AXYA…`). */
export function issueRefreshToken(world: World, init: Omit<SimRefreshToken, 'issuedAt'>): string {
  const store = storeOf(world);
  const now = world.now();
  for (const [key, t] of store) if (t.issuedAt + REFRESH_TOKEN_INACTIVITY_MS < now) store.delete(key);
  const token = `1.${randomBytes(64).toString('base64url')}`;
  store.set(keyOf(token), { ...init, issuedAt: now });
  return token;
}

function invalidGrant(aadsts: number, text: string, suberror?: string): EntraError {
  return new EntraError(400, 'invalid_grant', aadsts, text, suberror);
}

/** `90.00:00:00`: the .NET TimeSpan form Entra writes durations in (AADSTS700082 as clients meet it). */
function timeSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 86400)}.${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** Why Entra refuses this refresh token now, or undefined (exported for the 90-day test, which needs a clock). */
export function refreshRefusal(
  world: World,
  rt: SimRefreshToken,
  tenant: SimTenant,
  user: SimUser | undefined,
): EntraError | undefined {
  const now = world.now();
  const issued = new Date(rt.issuedAt).toISOString();
  if (!user)
    // E-ERR 50034 UserAccountNotFound (for a refresh of a deleted user: **unverified** which code Entra gives).
    return invalidGrant(
      50034,
      `The user account {EUII Hidden} does not exist in the ${tenant.id} directory. To sign into this application, the account must be added to the directory.`,
    );
  if (now - rt.issuedAt >= REFRESH_TOKEN_INACTIVITY_MS)
    return invalidGrant(
      700082,
      `The refresh token has expired due to inactivity. The token was issued on ${issued} and was inactive for ${timeSpan(REFRESH_TOKEN_INACTIVITY_MS)}.`,
    );
  if (user.tokensValidFrom !== undefined && rt.issuedAt < user.tokensValidFrom)
    return invalidGrant(
      50173,
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${new Date(user.tokensValidFrom).toISOString()}'.`,
    );
  if (user.accountEnabled === false) return invalidGrant(50057, 'The user account is disabled.');
  if (tenant.signInFrequencySeconds !== undefined && now - rt.issuedAt > tenant.signInFrequencySeconds * 1000)
    return invalidGrant(
      70043,
      `The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on ${issued} and the maximum allowed lifetime for this request is ${tenant.signInFrequencySeconds}.`,
    );
  if (user.mfaRequired)
    // E-ERR 50076 UserStrongAuthClientAuthNRequired; `suberror: basic_action` as MSAL meets it (**third-party only**).
    return invalidGrant(
      50076,
      'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.',
      'basic_action',
    );
  return undefined;
}

export async function refreshTokenGrant(t: GrantRequest): Promise<SimResponse> {
  const { ctx } = t;
  const { world } = ctx;
  const ident = identifyClient(t.form, headerValue(t.req.headers.authorization));
  if (!ident.clientId) throw missing('client_id');
  const value = t.form.get('refresh_token');
  if (!value) throw missing('refresh_token');
  const rt = storeOf(world).get(keyOf(value));
  const pathName = t.tenantPath.toLowerCase();
  const tenant =
    pathName === 'common' || pathName === 'organizations'
      ? rt
        ? world.tenants.get(rt.tenantId)
        : undefined
      : resolveTenant(ctx, t.tenantPath);
  // E-ERR 9002313 for a token Entra cannot read, as for a code (**third-party only**, authorization-code.ts).
  const unknown = () => invalidGrant(9002313, 'Invalid request. Request is malformed or invalid.');
  if (!tenant) throw unknown();
  const app = world.apps.get(ident.clientId.toLowerCase());
  if (!app || (!app.multitenant && app.homeTenantId !== tenant.id)) throw appNotFound(ident.clientId, tenant);
  await authenticate({ ...t, tenant }, app, ident.credential, world.now());
  if (!rt || rt.clientId !== app.appId || rt.tenantId !== tenant.id) throw unknown();

  const user = tenant.users.find((u) => u.objectId === rt.userObjectId);
  const refused = refreshRefusal(world, rt, tenant, user);
  if (refused) throw refused;
  const asked = (t.form.get('scope') ?? '').split(/\s+/).filter(Boolean);
  const scopes = asked.length > 0 ? asked : rt.scopes;
  // The consent must still be there: removed, the refresh is refused as the sign-in would be (E-ERR 65001).
  const lacking = unconsentedScopes(world, app, tenant, user!.objectId, scopes);
  if (!lacking || (app.requiredScopes !== undefined && lacking.length > 0))
    throw invalidGrant(
      65001,
      `The user or administrator has not consented to use the application with ID '${app.appId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`,
    );

  const tokens = await issueUserTokens(ctx, {
    tenant,
    app,
    user: user!,
    scopes,
    grantedScopes: rt.scopes,
    nonce: undefined,
    nowMs: world.now(),
  });
  return userTokenResponse(tokens, t.form);
}
