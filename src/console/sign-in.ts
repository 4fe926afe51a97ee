/**
 * A vendor staff member's sign-in to the support console (issue 22), framework-free: OpenID Connect
 * authorization code with PKCE and a nonce through the home app as a confidential client, at the vendor
 * tenant's own authority (`/{VENDOR_TENANT_ID}/oauth2/v2.0/authorize`), scope `openid profile`, redirect URI
 * `${BROKER_PUBLIC_URL}/console/callback`. The `state` is single-use, short-lived and bound to the browser that
 * asked for it (src/consent/state-store.ts, purpose `console`); the PKCE verifier and nonce are derived from it
 * with the broker key and never stored, as the consenting admin's (src/consent/flow.ts).
 *
 * The same refusals as the support API (src/support/staff-auth.ts): an ID token of another tenant, or without
 * `Broker.Read` / `Broker.Admin` among its `roles` (the home app's roles assigned to the user: FACTS.md, app
 * roles in ID tokens), signs nobody in; each sign-in and each refusal is audited.
 * @module
 */
import { SignInRefused, type AdminSignIn } from '../adapters/entra/sign-in.js';
import type { AuditLog } from '../audit/audit-log.js';
import { StateRejected, STATE_PATTERN, newBrowserKey, type StateStore } from '../consent/state-store.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import { staffRoles, type ConsoleSessions } from './sessions.js';

/** Where Entra returns the staff member's browser (registered on the home app: src/profiles/registration.ts). */
export const CONSOLE_CALLBACK_PATH = '/console/callback';

export interface ConsoleSignInDeps {
  readonly settings: {
    readonly publicUrl: string;
    readonly vendorTenantId: string;
    readonly stateTtlSeconds: number;
  };
  readonly states: StateStore;
  readonly keys: BrokerKeys;
  readonly signIn: AdminSignIn;
  readonly sessions: ConsoleSessions;
  readonly audit: AuditLog;
  readonly codeChallengeFor: (verifier: string) => string;
}

export type ConsoleRefusal =
  /** The state is unknown, expired, used, or another browser's: start again. */
  | 'stateInvalid'
  /** Entra answered with an error (the staff member cancelled, or Entra refused the sign-in). */
  | 'signInFailed'
  /** The account is not of the vendor tenant. */
  | 'otherTenant'
  /** Signed in, but holds neither Broker.Read nor Broker.Admin. */
  | 'noRole';

export class ConsoleRefused extends Error {
  constructor(
    readonly reason: ConsoleRefusal,
    /** An Entra code for support (AADSTS…), never request data. */
    readonly code?: string,
  ) {
    super(`console sign-in refused: ${reason}`);
    this.name = 'ConsoleRefused';
  }
}

/**
 * `GET /console/signin`: the Entra authorization URL, with a fresh state bound to this browser's key (reused
 * when it has one, as a consent in another tab does). The caller sets the key as a cookie.
 */
export async function startConsoleSignIn(
  deps: ConsoleSignInDeps,
  presentedKey: string | undefined,
): Promise<{ location: string; browserKey: string }> {
  const browserKey = presentedKey && STATE_PATTERN.test(presentedKey) ? presentedKey : newBrowserKey();
  const tenantId = deps.settings.vendorTenantId;
  const state = await deps.states.issue(
    { purpose: 'console', onboardingId: '', tenantId, silent: false },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  const { verifier, nonce } = await pkceFor(deps, state);
  const location = await deps.signIn.authorizationUrl({
    tenantId,
    redirectUri: `${deps.settings.publicUrl}${CONSOLE_CALLBACK_PATH}`,
    state,
    nonce,
    codeChallenge: deps.codeChallengeFor(verifier),
    prompt: 'select_account',
  });
  return { location, browserKey };
}

/**
 * `GET /console/callback`: redeems the code, checks who signed in, and opens a session; returns its id. Every
 * refusal is a ConsoleRefused and opens nothing.
 */
export async function consoleCallback(
  deps: ConsoleSignInDeps,
  query: URLSearchParams,
  browserKeys: readonly string[],
): Promise<string> {
  const one = (name: string) => (query.getAll(name).length === 1 ? query.get(name)! : undefined);
  const state = one('state');
  if (!state) throw new ConsoleRefused('stateInvalid');
  try {
    await deps.states.consume(state, 'console', browserKeys);
  } catch (err) {
    if (err instanceof StateRejected) throw new ConsoleRefused('stateInvalid');
    throw err;
  }
  const error = one('error');
  if (error !== undefined) {
    const aadsts = /AADSTS(\d{4,9})/.exec(one('error_description') ?? '')?.[1];
    // AADSTS50020: an account of another tenant, no guest of the vendor's (FACTS.md §14).
    throw new ConsoleRefused(
      aadsts === '50020' ? 'otherTenant' : 'signInFailed',
      aadsts ? `AADSTS${aadsts}` : undefined,
    );
  }
  const code = one('code');
  if (!code || code.length > 4096) throw new ConsoleRefused('stateInvalid');
  const { verifier, nonce } = await pkceFor(deps, state);
  let user;
  try {
    user = await deps.signIn.redeemCode({
      tenantId: deps.settings.vendorTenantId,
      code,
      redirectUri: `${deps.settings.publicUrl}${CONSOLE_CALLBACK_PATH}`,
      codeVerifier: verifier,
      nonce,
    });
  } catch (err) {
    if (err instanceof SignInRefused)
      throw new ConsoleRefused('signInFailed', err.aadsts ? `AADSTS${err.aadsts}` : undefined);
    throw err;
  }
  const actor = { kind: 'staff' as const, id: user.objectId, name: user.displayName };
  const refuse = async (reason: ConsoleRefusal) => {
    await deps.audit.write({
      action: 'console.sign_in_refused',
      tenantId: null,
      actor,
      details: { reason, tenantId: user.tenantId },
    });
    return new ConsoleRefused(reason);
  };
  if (user.tenantId !== deps.settings.vendorTenantId.toLowerCase()) throw await refuse('otherTenant');
  const roles = staffRoles(user.appRoles);
  if (roles.length === 0) throw await refuse('noRole');
  const sessionId = await deps.sessions.create({
    tenantId: user.tenantId,
    objectId: user.objectId,
    displayName: user.displayName,
    roles,
  });
  await deps.audit.write({ action: 'console.signed_in', tenantId: null, actor, details: { roles } });
  return sessionId;
}

/** PKCE verifier and nonce of a console sign-in, derived from its state (see src/consent/flow.ts `pkceFor`). */
async function pkceFor(deps: Pick<ConsoleSignInDeps, 'keys'>, state: string) {
  const [verifier, nonce] = await Promise.all([
    deps.keys.derive('console-pkce-verifier', state),
    deps.keys.derive('console-oidc-nonce', state),
  ]);
  return { verifier, nonce };
}
