/**
 * A mailbox user's side of a grant (README "Delegated mailboxes"): the link's landing, the sign-in at Microsoft
 * (authorization code with PKCE and a nonce at the grant's tenant, `login_hint` = the mailbox, redirect URI
 * `${BROKER_PUBLIC_URL}/mailbox-grants/callback`), and its return. The return goes on only in the browser that
 * started it (a browser-bound single-use state, as the consent's: RFC 9700 §4.7), when the ID token's `tid` is the
 * grant's tenant and, for a grant naming a mailbox, the signed-in user is that mailbox; the user's refresh token
 * is then sealed (src/grants/custody.ts) and the grant becomes `active`, audited. A refusal records nothing.
 * The admin's consent already covers the delegated scopes for every user (src/profiles/registration.ts); a
 * user is asked for consent at Microsoft only where the tenant lets users consent and the admin has not.
 * @module
 */
import type { BundleApps } from '../credentials/bundle-apps.js';
import type { AdminSignIn } from '../adapters/entra/sign-in.js';
import { SignInRefused } from '../adapters/entra/sign-in.js';
import { randomBytes } from 'node:crypto';
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditLog } from '../audit/audit-log.js';
import { ConsentFailure } from '../consent/errors.js';
import { CODE_PATTERN } from '../consent/onboardings.js';
import { STATE_PATTERN, newBrowserKey, type StateStore } from '../consent/state-store.js';
import { callbackParams, consumeState } from '../consent/steps.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import type { Profile, Profiles } from '../profiles/profiles.js';
import { MailProtocolUnavailable, type MailProtocols } from '../adapters/exchange/port.js';
import type { Custody } from './custody.js';
import { effectiveGrantStatus, type MailboxGrant, type MailboxGrantStore } from './grant-store.js';

export interface GrantSignInDeps {
  readonly grants: MailboxGrantStore;
  readonly states: StateStore;
  readonly keys: BrokerKeys;
  readonly signIn: AdminSignIn;
  readonly codeChallengeFor: (verifier: string) => string;
  readonly custody: Custody;
  /** Exchange's IMAP, to prove a signed-in user may use the shared mailbox a grant names. */
  readonly mail: MailProtocols;
  readonly profiles: Profiles;
  /** The grant's profiles' bundle app signs the user in and redeems the refresh token (one app per grant). */
  readonly apps: Pick<BundleApps, 'forProfiles' | 'byClientId'>;
  readonly audit: AuditLog;
  readonly now: () => Date;
  readonly settings: { readonly publicUrl: string; readonly stateTtlSeconds: number };
}

export const GRANT_CALLBACK_PATH = '/mailbox-grants/callback';

/**
 * `{app}`: the client id of the bundle app a grant's user signs in to (its profiles are of one bundle,
 * src/grants/grants.ts), for the sign-in requests; none for the home app's.
 */
export function grantApp(
  deps: { readonly apps: Pick<BundleApps, 'forProfiles' | 'byClientId'> },
  grant: Pick<MailboxGrant, 'profiles' | 'app'>,
): { app?: string } {
  // The app the grant was made with, while the broker still serves it; else its profiles' bundle's.
  const app =
    (grant.app ? deps.apps.byClientId(grant.app) : undefined) ?? deps.apps.forProfiles(grant.profiles)[0];
  return app && !app.bundle.home ? { app: app.clientId } : {};
}

/** The associated data a grant's handle is sealed with: apart from its refresh token's. */
export const handleAad = (grantId: string) => `${grantId}#handle`;

/** The grant a link opens, if it can still be used, and its profiles. */
export async function grantLanding(
  deps: Pick<GrantSignInDeps, 'grants' | 'profiles' | 'now'>,
  code: string,
): Promise<{ grant: MailboxGrant; profiles: Profile[] }> {
  if (!CODE_PATTERN.test(code)) throw new ConsentFailure('linkNotFound');
  const grant = await deps.grants.byCode(code);
  if (!grant) throw new ConsentFailure('linkNotFound');
  return usable(deps, grant);
}

/** A grant that can still be signed in to, and its profiles; the reason otherwise. */
export function usable(
  deps: Pick<GrantSignInDeps, 'profiles' | 'now'>,
  grant: MailboxGrant,
): { grant: MailboxGrant; profiles: Profile[] } {
  const status = effectiveGrantStatus(grant, deps.now());
  if (status === 'expired') throw new ConsentFailure('linkExpired');
  if (status !== 'pending') throw new ConsentFailure('linkUsed');
  return { grant, profiles: grant.profiles.flatMap((n) => deps.profiles.get(n) ?? []) };
}

/**
 * The delegated scopes the sign-in asks for: those of the grant's profiles on the first profile's resource (a
 * token is for one resource; the refresh token reaches the grant's other resources later).
 */
function signInScopes(profiles: readonly Profile[]): string[] {
  const resource = profiles[0]?.resource.scope;
  return profiles
    .filter((p) => p.resource.scope === resource)
    .flatMap((p) => p.scopes.map((s) => s.tokenScope));
}

async function pkceFor(deps: GrantSignInDeps, state: string): Promise<{ verifier: string; nonce: string }> {
  const [verifier, nonce] = await Promise.all([
    deps.keys.derive('grant-pkce-verifier', state),
    deps.keys.derive('grant-oidc-nonce', state),
  ]);
  return { verifier, nonce };
}

/** `GET /mailbox-grants/{code}/go`: Microsoft's sign-in for the grant's tenant, bound to this browser. */
export async function startGrantSignIn(
  deps: GrantSignInDeps,
  code: string,
  presentedKey?: string,
): Promise<{ location: string; browserKey: string }> {
  return signInFor(deps, await grantLanding(deps, code), presentedKey);
}

/** Microsoft's sign-in for a usable grant (`usable`), bound to this browser. */
export async function signInFor(
  deps: GrantSignInDeps,
  { grant, profiles }: { grant: MailboxGrant; profiles: Profile[] },
  presentedKey?: string,
): Promise<{ location: string; browserKey: string }> {
  const browserKey = presentedKey && STATE_PATTERN.test(presentedKey) ? presentedKey : newBrowserKey();
  const state = await deps.states.issue(
    { purpose: 'grant', onboardingId: '', grantId: grant.id, tenantId: grant.tenantId, silent: false },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  const { verifier, nonce } = await pkceFor(deps, state);
  const location = await deps.signIn.authorizationUrl({
    ...grantApp(deps, grant),
    tenantId: grant.tenantId,
    redirectUri: `${deps.settings.publicUrl}${GRANT_CALLBACK_PATH}`,
    state,
    nonce,
    codeChallenge: deps.codeChallengeFor(verifier),
    scopes: signInScopes(profiles),
    ...(grant.mailbox ? { loginHint: grant.mailbox } : {}),
  });
  return { location, browserKey };
}

/** `GET /mailbox-grants/callback`: the user's return from Microsoft; the grant, now active. */
export async function grantCallback(
  deps: GrantSignInDeps,
  query: URLSearchParams,
  browserKeys: readonly string[],
): Promise<MailboxGrant> {
  const q = callbackParams(query, [
    'code',
    'state',
    'session_state',
    'error',
    'error_description',
    'error_uri',
  ]);
  const state = q.get('state');
  const binding = await consumeState(deps, state, 'grant', browserKeys);
  const grant =
    binding.grantId && binding.tenantId
      ? await deps.grants.get(binding.tenantId, binding.grantId)
      : undefined;
  if (!grant) throw new ConsentFailure('stateInvalid');
  if (effectiveGrantStatus(grant, deps.now()) !== 'pending') throw new ConsentFailure('linkUsed');
  const error = q.get('error');
  if (error !== undefined) {
    const aadsts = /AADSTS(\d+)/.exec(q.get('error_description') ?? '')?.[1];
    // A device waits for this sign-in: tell it, by its next poll, that the user said no (src/vending/device-code.ts).
    if (grant.flow === 'device_code' && error === 'access_denied') await declined(deps, grant);
    throw new ConsentFailure(
      error === 'access_denied' ? 'consentDenied' : 'consentError',
      aadsts ? `AADSTS${aadsts}` : error.slice(0, 60),
    );
  }
  const code = q.get('code');
  if (!code) throw new ConsentFailure('badParameters');
  const profiles = grant.profiles.flatMap((n) => deps.profiles.get(n) ?? []);
  const { verifier, nonce } = await pkceFor(deps, state!);
  let signedIn;
  try {
    signedIn = await deps.signIn.redeemGrantCode({
      ...grantApp(deps, grant),
      tenantId: grant.tenantId,
      code,
      redirectUri: `${deps.settings.publicUrl}${GRANT_CALLBACK_PATH}`,
      codeVerifier: verifier,
      nonce,
      scopes: signInScopes(profiles),
    });
  } catch (err) {
    if (err instanceof SignInRefused)
      throw new ConsentFailure('consentError', err.aadsts ? `AADSTS${err.aadsts}` : err.error);
    throw err;
  }
  if (signedIn.user.tenantId !== grant.tenantId || signedIn.user.isGuest)
    throw new ConsentFailure('tenantMismatch');
  const shared = grant.mailbox !== null && signedIn.userPrincipalName !== grant.mailbox;
  if (shared) await assertMayUse(deps, grant, profiles, signedIn.refreshToken);
  const now = deps.now().toISOString();
  // The appliance's `refresh_token` for this grant: the broker's own, 256 random bits, never Microsoft's.
  const handle = `mbh_${randomBytes(32).toString('base64url')}`;
  await deps.grants.linkHandle(grant, handle);
  let active: MailboxGrant;
  try {
    active = await deps.grants.update({
      ...grant,
      status: 'active',
      user: { objectId: signedIn.user.objectId, userPrincipalName: signedIn.userPrincipalName },
      error: null,
      refreshToken: await deps.custody.seal(signedIn.refreshToken, grant.id),
      refreshTokenKeptAt: now,
      handle: await deps.custody.seal(handle, handleAad(grant.id)),
      handleUsedAt: null,
    });
  } catch (err) {
    // Another sign-in with the same link (a second tab) or a revocation came first: this one records nothing.
    if (err instanceof RowChanged) throw new ConsentFailure('linkUsed');
    throw err;
  }
  await deps.audit.write({
    action: 'mailbox_grant.granted',
    tenantId: grant.tenantId,
    actor: { kind: 'user', id: signedIn.user.objectId, name: signedIn.user.displayName },
    target: grant.id,
    details: {
      applianceId: grant.applianceId,
      userPrincipalName: signedIn.userPrincipalName,
      ...(shared ? { sharedMailbox: grant.mailbox } : {}),
    },
  });
  return active;
}

/** A device-code grant the user declined at Microsoft: ended, so that the device stops polling. */
async function declined(deps: GrantSignInDeps, grant: MailboxGrant): Promise<void> {
  try {
    await deps.grants.update({
      ...grant,
      status: 'revoked',
      error: {
        code: 'authorization_declined',
        message: 'The user declined the sign-in',
        at: deps.now().toISOString(),
      },
    });
  } catch (err) {
    if (err instanceof RowChanged) return; // another tab's answer came first
    throw err;
  }
  await deps.audit.write({
    action: 'mailbox_grant.declined',
    tenantId: grant.tenantId,
    actor: { kind: 'system', id: 'broker' },
    target: grant.id,
    details: { applianceId: grant.applianceId },
  });
}

/** The IMAP scope of a grant's profiles: the one a shared mailbox's use can be proven with. */
const IMAP_SCOPE = /\/IMAP\.AccessAsUser\.All$/i;

/**
 * The signed-in user may use the mailbox the grant names although it is not theirs: Exchange accepts an IMAP login
 * as that mailbox with the user's token — what it does for a shared mailbox the user has Full Access to (the
 * shared mailbox as the XOAUTH2 user: https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth,
 * "shared mailbox access"), and what the appliance will do. Only a grant with an IMAP profile can prove it; any
 * other is refused as another account. Exchange unreachable: try again.
 */
async function assertMayUse(
  deps: GrantSignInDeps,
  grant: MailboxGrant,
  profiles: readonly Profile[],
  refreshToken: string,
): Promise<void> {
  const scope = profiles.flatMap((p) => p.scopes).find((s) => IMAP_SCOPE.test(s.tokenScope))?.tokenScope;
  if (!scope) throw new ConsentFailure('wrongMailbox');
  let outcome;
  try {
    const { accessToken } = await deps.signIn.redeemRefreshToken({
      ...grantApp(deps, grant),
      tenantId: grant.tenantId,
      refreshToken,
      scopes: [scope],
    });
    outcome = (await deps.mail.probe('imap', grant.mailbox!, accessToken)).outcome;
  } catch (err) {
    if (err instanceof SignInRefused)
      throw new ConsentFailure('consentError', err.aadsts ? `AADSTS${err.aadsts}` : err.error);
    if (err instanceof MailProtocolUnavailable)
      throw new ConsentFailure('temporarilyUnavailable', undefined, err.retryAfterSeconds);
    throw err;
  }
  if (outcome !== 'ok') throw new ConsentFailure('wrongMailbox');
}
