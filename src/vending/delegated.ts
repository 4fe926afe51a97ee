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
import { RowChanged } from '../adapters/tables/port.js';
import type { MailboxGrantStore } from '../grants/grant-store.js';
import { grantAccessToken, GrantUnusable, type GrantTokenDeps } from '../grants/grant-tokens.js';
import { authenticate, type ThrottledAuthDeps } from './authenticate.js';
import { InvalidGrant, InvalidRequest, InvalidScope, UnauthorizedClient } from './errors.js';
import type { TokenRequest } from './issue.js';

export interface DelegatedVendDeps extends ThrottledAuthDeps, Omit<GrantTokenDeps, 'grants'> {
  readonly mailboxGrants: MailboxGrantStore;
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
const OIDC = new Set(['openid', 'profile', 'email', 'offline_access']);

export async function issueGrantToken(
  deps: DelegatedVendDeps,
  req: TokenRequest,
): Promise<DelegatedTokenResponse> {
  const { appliance } = await authenticate(deps, req);
  const handle = req.form.get('refresh_token');
  if (!handle)
    throw new InvalidRequest(
      'refresh_token is required: the handle of one of this appliance’s mailbox grants.',
    );
  const tenantId = appliance.tenantId;
  if (!tenantId) throw new InvalidGrant('This appliance is not bound to a tenant yet.');
  if (req.pathTenant !== undefined) {
    const t = req.pathTenant.toLowerCase();
    if (t !== 'organizations' && t !== tenantId)
      throw new UnauthorizedClient(
        'This client may get tokens only for its own tenant; the path names another.',
      );
  }
  const grant = /^mbh_[A-Za-z0-9_-]{43}$/.test(handle)
    ? await deps.mailboxGrants.byHandle(handle)
    : undefined;
  // Another appliance's handle is answered as an unknown one.
  if (!grant || grant.applianceId !== appliance.clientId || grant.tenantId !== tenantId)
    throw new InvalidGrant('The refresh_token is not a mailbox grant of this appliance.');
  const allowed = grant.profiles.flatMap((n) => deps.profiles.get(n)?.scopes ?? []).map((s) => s.tokenScope);
  const asked = (req.form.get('scope') ?? '').split(/ +/).filter((s) => s && !OIDC.has(s.toLowerCase()));
  if (asked.length > 1) throw new InvalidScope('Ask for the delegated scopes of one resource per request.');
  const scope = asked[0] ?? allowed[0];
  if (!scope || !allowed.some((s) => s.toLowerCase() === scope.toLowerCase()))
    throw new InvalidScope(`The grant allows ${allowed.join(', ') || 'no scope'}.`);
  let token;
  try {
    token = await grantAccessToken({ ...deps, grants: deps.mailboxGrants }, grant, scope);
  } catch (err) {
    if (err instanceof GrantUnusable)
      throw err.status === 'scope_not_granted'
        ? new InvalidScope(err.message)
        : new InvalidGrant(err.message);
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
    refresh_token: handle,
  };
}
