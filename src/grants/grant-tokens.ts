/**
 * A user's access token from a mailbox grant (README "Delegated mailboxes"): the refresh token the grant keeps is
 * opened (src/grants/custody.ts) and redeemed at Entra for one of the grant's delegated scopes.
 * - Rotation: Entra returns a new refresh token each time and leaves the old one valid
 *   (https://learn.microsoft.com/entra/identity-platform/refresh-tokens); the newest is kept when the one kept is
 *   older than KEEP_ROTATED_AFTER_MS, by a conditional write — two instances at once both stay valid, and the one
 *   that loses the write keeps nothing (docs/delegated-custody.md "Rotation kept"). A used grant therefore never
 *   reaches the 90-day inactivity limit.
 * - Refusals: a refresh Entra refuses (`invalid_grant`, `interaction_required`: revoked sessions or password reset,
 *   inactivity, MFA or sign-in frequency, consent removed, user disabled or gone) makes the grant
 *   `reauth_required` with Microsoft's code, audited, and is never retried: a grant that is not `active` is
 *   refused at once, without a call to Entra, until the user signs in again with a fresh link.
 * - Caching: `grantTokenSource` makes this the source of a token cache (src/vending/token-cache.ts) keyed by
 *   grant (`grantKey`) and scope, so that a grant's token is fetched once however many requests ask at once,
 *   refreshed ahead of expiry, served from memory while Entra is down, and a caller waits at most 5 s.
 * @module
 */
import type { BundleApps } from '../credentials/bundle-apps.js';
import { grantApp } from './grant-sign-in.js';
import { EntraRefused, type AppToken, type EntraTokens } from '../adapters/entra/port.js';
import { SignInRefused, type AdminSignIn } from '../adapters/entra/sign-in.js';
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Profiles } from '../profiles/profiles.js';
import type { Custody } from './custody.js';
import {
  effectiveGrantStatus,
  type GrantStatus,
  type MailboxGrant,
  type MailboxGrantStore,
} from './grant-store.js';

/** The newest refresh token is kept when the one kept is older than this (a write a day per grant in use). */
export const KEEP_ROTATED_AFTER_MS = 24 * 3_600_000;

export interface GrantTokenDeps {
  readonly grants: MailboxGrantStore;
  readonly custody: Custody;
  readonly signIn: Pick<AdminSignIn, 'redeemRefreshToken'>;
  readonly profiles: Profiles;
  /** The bundle app of each grant's profiles (src/grants/grant-sign-in.ts `grantApp`). */
  readonly apps: Pick<BundleApps, 'forProfiles' | 'byClientId'>;
  readonly audit: AuditLog;
  readonly now: () => Date;
}

/** The grant cannot give a token now: its status, and Microsoft's code when a refusal made it so. */
export class GrantUnusable extends Error {
  constructor(
    readonly status: GrantStatus | 'scope_not_granted',
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'GrantUnusable';
  }
}

/** Microsoft's refusal in words a user or support understands (AADSTS codes: reference-error-codes.md). */
const REFUSALS: Readonly<Record<string, string>> = {
  '50173': 'the user’s sessions were revoked or the password was reset',
  '700082': 'the sign-in was not used for 90 days',
  '70008': 'the sign-in expired',
  '70043': 'a Conditional Access sign-in frequency requires signing in again',
  '50076': 'multi-factor authentication is now required',
  '50079': 'the user must register for multi-factor authentication',
  '65001': 'the consent to the app was removed',
  '50057': 'the user account is disabled',
  '50034': 'the user account no longer exists',
  '53003': 'a Conditional Access policy blocks it',
};

function reason(err: SignInRefused): string {
  return (err.aadsts && REFUSALS[err.aadsts]) ?? 'Microsoft refused the user’s sign-in';
}

/**
 * An access token of the grant's user for `scope` (one of the grant's profiles' delegated scopes). Throws
 * GrantUnusable when the grant is not active, or when Entra refuses the refresh (which also makes it
 * `reauth_required`); Entra and Key Vault outages pass through (503 where answered).
 */
export async function grantAccessToken(
  deps: GrantTokenDeps,
  grant: MailboxGrant,
  scope: string,
): Promise<{ accessToken: string; expiresOn: Date }> {
  const status = effectiveGrantStatus(grant, deps.now());
  if (status !== 'active' || !grant.refreshToken)
    throw new GrantUnusable(
      status,
      grant.error?.code,
      status === 'reauth_required'
        ? `The user must sign in again (${grant.error?.message ?? 'Microsoft refused the sign-in'}).`
        : `The mailbox grant is ${status}.`,
    );
  const allowed = grant.profiles.flatMap((n) => deps.profiles.get(n)?.scopes ?? []);
  const asked = allowed.find((s) => s.tokenScope.toLowerCase() === scope.toLowerCase());
  if (!asked) throw new GrantUnusable('scope_not_granted', undefined, `The grant does not allow ${scope}.`);

  const refreshToken = await deps.custody.open(grant.refreshToken, grant.id);
  let result;
  try {
    result = await deps.signIn.redeemRefreshToken({
      ...grantApp(deps, grant),
      tenantId: grant.tenantId,
      refreshToken,
      scopes: [asked.tokenScope],
    });
  } catch (err) {
    if (
      err instanceof SignInRefused &&
      (err.error === 'invalid_grant' || err.error === 'interaction_required')
    )
      return await reauthRequired(deps, grant, err);
    throw err;
  }
  if (
    result.refreshToken &&
    deps.now().getTime() - Date.parse(grant.refreshTokenKeptAt ?? '') > KEEP_ROTATED_AFTER_MS
  ) {
    try {
      await deps.grants.update({
        ...grant,
        refreshToken: await deps.custody.seal(result.refreshToken, grant.id),
        refreshTokenKeptAt: deps.now().toISOString(),
      });
    } catch (err) {
      // Another instance kept its newer one meanwhile: both are valid; nothing to do.
      if (!(err instanceof RowChanged)) throw err;
    }
  }
  return { accessToken: result.accessToken, expiresOn: result.expiresOn };
}

async function reauthRequired(deps: GrantTokenDeps, grant: MailboxGrant, err: SignInRefused): Promise<never> {
  const code = err.aadsts ? `AADSTS${err.aadsts}` : err.error;
  const message = reason(err);
  try {
    await deps.grants.update({
      ...grant,
      status: 'reauth_required',
      error: { code, message, at: deps.now().toISOString() },
    });
    await deps.audit.write({
      action: 'mailbox_grant.reauth_required',
      tenantId: grant.tenantId,
      actor: { kind: 'system', id: 'broker' },
      target: grant.id,
      details: { applianceId: grant.applianceId, code },
    });
  } catch (updateErr) {
    // Another request recorded it first.
    if (!(updateErr instanceof RowChanged)) throw updateErr;
  }
  throw new GrantUnusable('reauth_required', code, `The user must sign in again (${message}).`);
}

/**
 * Grants' access tokens as a token cache's source: the cache's "tenant" is the grant's key
 * (`{tenant id}/{grant id}`, src/directory/change-journal.ts `grantKey`). Each fetch reads the grant as stored
 * now (its current refresh token and etag: one Table Storage read per refresh), then redeems it. A grant that
 * cannot give a token is an `EntraRefused` with `invalid_grant` (or `invalid_scope`) and the reason, which the
 * cache hands to its callers unchanged and remembers for a few seconds; outages pass as they are.
 */
export function grantTokenSource(deps: GrantTokenDeps): EntraTokens {
  return {
    async acquireAppToken(key, scope): Promise<AppToken> {
      const slash = key.indexOf('/');
      const tenantId = key.slice(0, slash);
      const grant = await deps.grants.get(tenantId, key.slice(slash + 1));
      if (!grant) throw new EntraRefused(undefined, 'invalid_grant', 'The mailbox grant no longer exists.');
      try {
        const token = await grantAccessToken(deps, grant, scope);
        return {
          accessToken: token.accessToken,
          expiresOn: token.expiresOn,
          roles: [],
          servicePrincipalId: grant.user?.objectId ?? '',
          tenantId,
        };
      } catch (err) {
        if (err instanceof GrantUnusable)
          throw new EntraRefused(
            /^AADSTS(\d+)$/.exec(err.code ?? '')?.[1],
            err.status === 'scope_not_granted' ? 'invalid_scope' : 'invalid_grant',
            err.message,
          );
        throw err;
      }
    },
  };
}
