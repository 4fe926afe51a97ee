/**
 * Entra ID's device authorization grant (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code,
 * "device-code doc" below; RFC 8628), so that the broker's own device-code endpoint can be held to Entra's shape:
 * - `POST /{tenant}/oauth2/v2.0/devicecode` (`client_id`, `scope`, both required) answers `device_code`,
 *   `user_code`, `verification_uri`, `expires_in` (900: "the user has 15 minutes to sign in"), `interval` (5) and
 *   `message` ("To sign in, use a web browser to open the page … and enter the code … to authenticate.");
 * - the user opens `verification_uri` (here `${entra}/devicelogin`, standing for https://microsoft.com/devicelogin),
 *   enters the code and signs in (the form takes the account, as the sign-in page does: authorize.ts), or declines;
 * - the device polls the token endpoint with `grant_type=urn:ietf:params:oauth:grant-type:device_code` (MSAL
 *   sends `device_code`, accepted too) and `device_code`: `authorization_pending` (AADSTS70016) until the user
 *   signed in, `authorization_declined` after a decline, `expired_token` (AADSTS70019 "Verification code expired")
 *   after 15 minutes, `bad_verification_code` for a code it does not know (the device-code doc's "Expected errors";
 *   the AADSTS numbers of the last two are **unverified**), then the user's tokens once.
 * The tenant's consent must cover the scopes (AllPrincipals or the user's own); a user's consent on this page is
 * not modelled (the broker's home app is admin-consented). A public client (`publicClient` on the app: "Allow
 * public client flows") polls with `client_id` alone; any other app authenticates as at the token endpoint.
 * Device codes live as long as the simulator process, by their hash.
 * @module
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { parseForm, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';
import type { SimTenant, World } from '../common/world.js';
import type { SimContext } from '../context.js';
import { identifyClient } from './client-auth.js';
import { delegatedTarget, unconsentedScopes } from './delegated-scopes.js';
import { EntraError, htmlErrorPage, oauthErrorResponse } from './errors.js';
import { appNotFound, authenticate, headerValue, missing, type GrantRequest } from './token.js';
import { issueUserTokens, userTokenResponse } from './user-tokens.js';

export const DEVICE_CODE_EXPIRES_IN = 900;
export const DEVICE_CODE_INTERVAL = 5;

interface DeviceAuthorization {
  readonly appId: string;
  /** The tenant the request named; undefined for `organizations` / `common` (the user's, once signed in). */
  readonly tenantId: string | undefined;
  readonly scopes: readonly string[];
  readonly userCode: string;
  readonly expiresAt: number;
  state: 'pending' | 'approved' | 'declined' | 'redeemed';
  user?: { readonly tenantId: string; readonly objectId: string };
}

const stores = new WeakMap<World, Map<string, DeviceAuthorization>>();
const storeOf = (world: World) => {
  let s = stores.get(world);
  if (!s) stores.set(world, (s = new Map()));
  return s;
};
const hash = (code: string) => createHash('sha256').update(code, 'utf8').digest('base64url');

/** Entra's user codes: upper-case letters and digits, 8 long in the device-code doc's example. */
const USER_CODE_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function tenantOfPath(ctx: SimContext, name: string): SimTenant | undefined | 'any' {
  const lower = name.toLowerCase();
  if (lower === 'organizations' || lower === 'common') return 'any';
  return ctx.world.findTenant(lower);
}

async function deviceCodeRequest(ctx: SimContext, req: SimRequest): Promise<SimResponse> {
  try {
    const form = parseForm(req.body);
    const clientId = form.get('client_id');
    if (!clientId) throw missing('client_id');
    const scope = form.get('scope');
    if (!scope) throw missing('scope');
    const named = tenantOfPath(ctx, req.params.tenant!);
    if (named === undefined)
      // E-ERR 90002 InvalidTenantName, as at the token endpoint.
      throw new EntraError(400, 'invalid_request', 90002, `Tenant '${req.params.tenant}' not found.`);
    const app = ctx.world.apps.get(clientId.toLowerCase());
    if (!app || (named !== 'any' && !app.multitenant && app.homeTenantId !== named.id))
      throw appNotFound(clientId, named === 'any' ? ctx.world.tenants.get(app?.homeTenantId ?? '')! : named);
    const scopes = scope.split(/\s+/).filter(Boolean);
    delegatedTarget(ctx.world, app, scopes); // throws invalid_scope as the token endpoint would
    const deviceCode = randomBytes(48).toString('base64url');
    const userCode = Array.from({ length: 8 }, () => USER_CODE_CHARS[randomInt(USER_CODE_CHARS.length)]).join(
      '',
    );
    storeOf(ctx.world).set(hash(deviceCode), {
      appId: app.appId,
      tenantId: named === 'any' ? undefined : named.id,
      scopes,
      userCode,
      expiresAt: ctx.world.now() + DEVICE_CODE_EXPIRES_IN * 1000,
      state: 'pending',
    });
    const uri = `${ctx.urls.entra}/devicelogin`;
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache' },
      body: {
        user_code: userCode,
        device_code: deviceCode,
        verification_uri: uri,
        expires_in: DEVICE_CODE_EXPIRES_IN,
        interval: DEVICE_CODE_INTERVAL,
        message: `To sign in, use a web browser to open the page ${uri} and enter the code ${userCode} to authenticate.`,
      },
    };
  } catch (err) {
    if (err instanceof EntraError) return oauthErrorResponse(err);
    throw err;
  }
}

function page(body: string, status = 200): SimResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store, no-cache' },
    body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Enter code</title></head><body><main>${body}</main></body></html>`,
  };
}

const FORM = `<h1>Enter code</h1>
<form method="post" action="/devicelogin">
<label>Code <input name="otc" required></label>
<label>Account <input type="email" name="login"></label>
<button type="submit" name="decision" value="approve">Sign in</button>
<button type="submit" name="decision" value="decline">Cancel</button>
</form>`;

/** POST from the code page: the person enters the code and signs in (or declines). */
function deviceLogin(ctx: SimContext, req: SimRequest): SimResponse {
  const form = parseForm(req.body);
  const code = (form.get('otc') ?? '').trim().toUpperCase();
  const entry = [...storeOf(ctx.world).values()].find((d) => d.userCode === code && d.state === 'pending');
  // E-ERR 70018 BadVerificationCode ("User typing in wrong user code"), 70019 CodeExpired.
  if (!entry)
    return htmlErrorPage(new EntraError(400, 'invalid_request', 70018, 'Invalid verification code.'));
  if (entry.expiresAt <= ctx.world.now())
    return htmlErrorPage(
      new EntraError(
        400,
        'invalid_request',
        70019,
        'Verification code expired. Have the user retry the sign-in.',
      ),
    );
  if (form.get('decision') === 'decline') {
    entry.state = 'declined';
    return page('<p id="result">You have declined to sign in to the application on your device.</p>');
  }
  const upn = (form.get('login') ?? '').trim().toLowerCase();
  const tenants = entry.tenantId ? [ctx.world.tenants.get(entry.tenantId)!] : [...ctx.world.tenants.values()];
  const tenant = tenants.find((t) =>
    t.users.some((u) => !u.guest && u.userPrincipalName.toLowerCase() === upn),
  );
  const user = tenant?.users.find((u) => u.userPrincipalName.toLowerCase() === upn);
  if (!tenant || !user)
    // E-ERR 50034 UserAccountNotFound, as the sign-in page answers (authorize.ts).
    return htmlErrorPage(
      new EntraError(
        400,
        'invalid_request',
        50034,
        `The user account ${upn} does not exist in the directory.`,
      ),
    );
  entry.state = 'approved';
  entry.user = { tenantId: tenant.id, objectId: user.objectId };
  return page(
    '<p id="result">You have signed in to the application on your device. You may now close this window.</p>',
  );
}

/** `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the token endpoint. */
export async function deviceCodeGrant(t: GrantRequest): Promise<SimResponse> {
  const { ctx } = t;
  const ident = identifyClient(t.form, headerValue(t.req.headers.authorization));
  if (!ident.clientId) throw missing('client_id');
  const value = t.form.get('device_code');
  if (!value) throw missing('device_code');
  const entry = storeOf(ctx.world).get(hash(value));
  const bad = () =>
    new EntraError(400, 'bad_verification_code', 70000, "The provided value for 'device_code' is not valid.");
  if (!entry || entry.appId !== ident.clientId.toLowerCase()) throw bad();
  const app = ctx.world.apps.get(entry.appId)!;
  if (ident.credential.kind !== 'none' || !app.publicClient) {
    const tenant = ctx.world.tenants.get(entry.user?.tenantId ?? entry.tenantId ?? app.homeTenantId)!;
    await authenticate({ ...t, tenant }, app, ident.credential, ctx.world.now());
  }
  if (entry.state === 'redeemed') throw bad();
  if (entry.expiresAt <= ctx.world.now())
    throw new EntraError(
      400,
      'expired_token',
      70019,
      'Verification code expired. Have the user retry the sign-in.',
    );
  if (entry.state === 'declined')
    throw new EntraError(
      400,
      'authorization_declined',
      undefined,
      'The end user denied the authorization request.',
    );
  if (entry.state === 'pending' || !entry.user)
    throw new EntraError(
      400,
      'authorization_pending',
      70016,
      'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
    );
  const tenant = ctx.world.tenants.get(entry.user.tenantId)!;
  const user = tenant.users.find((u) => u.objectId === entry.user!.objectId)!;
  // The tenant's consent (or the user's) must cover what was asked, as at the sign-in (E-ERR 65001).
  const lacking = unconsentedScopes(ctx.world, app, tenant, user.objectId, entry.scopes);
  if (!lacking || lacking.length > 0)
    throw new EntraError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${app.appId}' named '${app.displayName}'.`,
    );
  entry.state = 'redeemed';
  const tokens = await issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes: entry.scopes,
    grantedScopes: entry.scopes,
    nonce: undefined,
    nowMs: ctx.world.now(),
  });
  return userTokenResponse(tokens, t.form);
}

export function deviceCodeRoutes(ctx: SimContext): SimRoute[] {
  return [
    {
      method: 'POST',
      path: '/{tenant}/oauth2/v2.0/devicecode',
      handler: (req) => deviceCodeRequest(ctx, req),
    },
    { method: 'GET', path: '/devicelogin', handler: () => Promise.resolve(page(FORM)) },
    { method: 'POST', path: '/devicelogin', handler: (req) => Promise.resolve(deviceLogin(ctx, req)) },
  ];
}
