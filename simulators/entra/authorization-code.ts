/**
 * The `authorization_code` grant at Entra ID's v2 token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5;
 * `MicrosoftDocs/entra-docs:docs/identity-platform/v2-oauth2-auth-code-flow.md`, "auth-code doc" below):
 * authenticate the confidential client as for client credentials (secret or assertion), then check the
 * code — known, this client's, not redeemed, not expired, redeemed at the tenant it was issued for — then
 * `redirect_uri` and the PKCE `code_verifier`, and answer with the ID token and a delegated access token.
 * A code is consumed by the first attempt to redeem it, whatever its outcome (RFC 6749 §4.1.2: single use).
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SimResponse } from '../common/server.js';
import type { SimTenant } from '../common/world.js';
import { identifyClient } from './client-auth.js';
import { EntraError } from './errors.js';
import { findCode, type SimAuthCode } from './sign-in-state.js';
import {
  appNotFound,
  authenticate,
  headerValue,
  missing,
  resolveTenant,
  type GrantRequest,
} from './token.js';
import { issueUserTokens, userTokenResponse } from './user-tokens.js';

const ALIASES = new Set(['common', 'organizations']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

function invalidGrant(aadsts: number, text: string): EntraError {
  return new EntraError(400, 'invalid_grant', aadsts, text);
}

/**
 * An unknown code, or one issued to another client. Entra's answer for a code it cannot read is
 * AADSTS9002313 "Invalid request. Request is malformed or invalid." with `invalid_grant` in live captures
 * (**third-party only**); which number it gives for another client's code is **unverified**.
 */
const UNKNOWN_CODE = (): EntraError =>
  invalidGrant(9002313, 'Invalid request. Request is malformed or invalid.');

function sameText(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** RFC 7636 §4.6: S256 compares BASE64URL(SHA256(ASCII(code_verifier))) with the challenge; plain compares as is. */
function verifierMatches(code: SimAuthCode, verifier: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false; // RFC 7636 §4.1
  const derived =
    code.codeChallengeMethod === 'S256'
      ? createHash('sha256').update(verifier, 'ascii').digest('base64url')
      : verifier;
  return sameText(derived, code.codeChallenge ?? '');
}

/** The tenant the token endpoint's path names must be the one the code was issued for (E-ERR 700005). */
function redeemedAtRightTenant(
  code: SimAuthCode,
  pathName: string,
  pathTenant: SimTenant | undefined,
): boolean {
  if (ALIASES.has(code.requestedAt)) return pathName === code.requestedAt || pathTenant?.id === code.tenantId;
  return pathTenant?.id === code.tenantId;
}

export async function authorizationCode(t: GrantRequest): Promise<SimResponse> {
  const { ctx } = t;
  const { world } = ctx;
  const now = world.now();
  const pathName = t.tenantPath.toLowerCase();
  const pathTenant = ALIASES.has(pathName) ? undefined : resolveTenant(ctx, t.tenantPath);

  const ident = identifyClient(t.form, headerValue(t.req.headers.authorization));
  if (!ident.clientId) throw missing('client_id');
  const codeValue = t.form.get('code');
  if (!codeValue) throw missing('code');
  const code = findCode(world, codeValue);
  // For /common and /organizations the code tells which tenant the user signed in to.
  const tenant = pathTenant ?? (code ? world.tenants.get(code.tenantId) : undefined);
  if (!tenant) throw UNKNOWN_CODE();

  const app = world.apps.get(ident.clientId.toLowerCase());
  if (!app || (!app.multitenant && app.homeTenantId !== tenant.id)) throw appNotFound(ident.clientId, tenant);
  // Auth-code doc: confidential clients redeem with a client secret or a certificate assertion.
  await authenticate({ ...t, tenant }, app, ident.credential, now);

  if (!code || code.clientId !== app.appId) throw UNKNOWN_CODE();
  if (code.redeemed)
    // E-ERR 54005.
    throw invalidGrant(
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  code.redeemed = true;
  if (code.expiresAt <= now)
    // E-ERR 70008 ExpiredOrRevokedGrant; the wording for a code is the live one as commonly quoted
    // (**third-party only**). Auth-code doc: codes "expire after about 10 minutes".
    throw invalidGrant(
      70008,
      `The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. The code was issued on ${new Date(code.issuedAt).toISOString()}.`,
    );
  if (!redeemedAtRightTenant(code, pathName, pathTenant))
    // E-ERR 700005 InvalidGrantRedeemAgainstWrongTenant.
    throw invalidGrant(
      700005,
      'Provided Authorization Code is intended to use against other tenant, thus rejected.',
    );
  const redirectUri = t.form.get('redirect_uri');
  if (!redirectUri) throw missing('redirect_uri');
  if (redirectUri !== code.redirectUri)
    // AADSTS500112 is the code Entra answers a redirect_uri that differs from the authorize request's
    // (**third-party only**: many deployments quote it; not in the E-ERR copy); `invalid_grant` per RFC 6749
    // §5.2 (the error string Entra uses here is **unverified**).
    throw invalidGrant(
      500112,
      `The reply address '${redirectUri}' does not match the reply address '${code.redirectUri}' provided when requesting Authorization code.`,
    );
  if (code.codeChallenge !== undefined) {
    const verifier = t.form.get('code_verifier');
    // E-ERR 501481. A missing verifier gets the same answer here (**unverified**).
    if (!verifier || !verifierMatches(code, verifier))
      throw invalidGrant(
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
      );
  }
  const scope = t.form.get('scope');
  if (scope)
    for (const s of scope.split(/\s+/).filter(Boolean)) {
      const slash = s.lastIndexOf('/');
      if (OIDC_SCOPES.has(s.toLowerCase()) || (slash > 0 && world.findResource(s.slice(0, slash)))) continue;
      // E-ERR 70011 InvalidScope.
      throw new EntraError(
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${s} is not valid.`,
      );
    }

  const user = tenant.users.find((u) => u.objectId === code.userObjectId);
  if (!user) throw UNKNOWN_CODE();
  // The token is for the scopes this request names (auth-code doc: `scope` at the token endpoint chooses among
  // those consented at authorize), else those of the code; the refresh token carries the sign-in's.
  const asked = (scope ?? '').split(/\s+/).filter(Boolean);
  const tokens = await issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes:
      asked.length > 0
        ? [...new Set([...asked, ...code.scopes.filter((s) => OIDC_SCOPES.has(s.toLowerCase()))])]
        : code.scopes,
    grantedScopes: code.scopes,
    nonce: code.nonce,
    nowMs: now,
  });
  return userTokenResponse(tokens, t.form);
}
