/**
 * What Entra ID keeps between the browser legs of a sign-in: sessions (the `ESTSAUTH` cookie on
 * login.microsoftonline.com) and authorization codes. Both live only as long as the simulator process, as
 * they do on the real service's side only for a while; the World snapshot does not keep them.
 *
 * A session names the *person* who signed in by their home account (home tenant + UPN). Which user object
 * that person is in another tenant — a B2B guest, or nobody (AADSTS50020) — is decided per request
 * (`resolveAccount`).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SimTenant, SimUser, World } from '../common/world.js';

/** The cookie Entra keeps its session in (`ESTSAUTH`, HttpOnly, Secure, SameSite=None on its own host). */
export const SESSION_COOKIE = 'ESTSAUTH';

export interface SimSession {
  readonly homeTenantId: string;
  /** The home account's UPN, lower case. */
  readonly homeUpn: string;
  readonly createdAt: number;
}

/** An authorization code and everything it is bound to (RFC 6749 §4.1.2, RFC 7636 §4.4). */
export interface SimAuthCode {
  readonly clientId: string;
  readonly redirectUri: string;
  /** The tenant path segment the code was requested at, lower case (GUID, domain or alias). */
  readonly requestedAt: string;
  /** The tenant the user signed in to (the ID token's `tid`). */
  readonly tenantId: string;
  readonly userObjectId: string;
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly issuedAt: number;
  readonly expiresAt: number;
  redeemed: boolean;
}

export interface SignInState {
  readonly sessions: Map<string, SimSession>;
  /** By SHA-256 of the code, so that a code is not kept in clear. */
  readonly codes: Map<string, SimAuthCode>;
}

/** One state per World (a simulator process may run several in tests); no module-level singleton. */
const states = new WeakMap<World, SignInState>();

export function signInStateOf(world: World): SignInState {
  let state = states.get(world);
  if (!state) {
    state = { sessions: new Map(), codes: new Map() };
    states.set(world, state);
  }
  return state;
}

/** Default code lifetime: "Typically, they expire after about 10 minutes" (v2-oauth2-auth-code-flow.md). */
export const DEFAULT_CODE_LIFETIME_SECONDS = 600;
/** Redeemed and expired codes are remembered this long, so that a replay still gets AADSTS54005. */
const CODE_MEMORY_MS = 3_600_000;

function codeKey(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('base64url');
}

export function issueCode(
  world: World,
  init: Omit<SimAuthCode, 'redeemed' | 'issuedAt' | 'expiresAt'>,
  tenant: SimTenant,
): string {
  const state = signInStateOf(world);
  const now = world.now();
  for (const [key, c] of state.codes) if (c.expiresAt + CODE_MEMORY_MS < now) state.codes.delete(key);
  // Opaque, long and unguessable, like Entra's `1.AXYA…` codes.
  const code = `1.${randomBytes(48).toString('base64url')}`;
  const lifetime = tenant.authCodeLifetimeSeconds ?? DEFAULT_CODE_LIFETIME_SECONDS;
  state.codes.set(codeKey(code), {
    ...init,
    issuedAt: now,
    expiresAt: now + lifetime * 1000,
    redeemed: false,
  });
  return code;
}

export function findCode(world: World, code: string): SimAuthCode | undefined {
  return signInStateOf(world).codes.get(codeKey(code));
}

export function startSession(world: World, person: { homeTenantId: string; homeUpn: string }): string {
  const id = randomBytes(32).toString('base64url');
  signInStateOf(world).sessions.set(id, {
    homeTenantId: person.homeTenantId,
    homeUpn: person.homeUpn.toLowerCase(),
    createdAt: world.now(),
  });
  return id;
}

/** `Set-Cookie` for a new session on the simulator's own host, with ESTSAUTH's attributes. */
export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; path=/; secure; HttpOnly; SameSite=None`;
}

export function sessionFrom(
  world: World,
  cookieHeader: string | string[] | undefined,
): SimSession | undefined {
  const header = Array.isArray(cookieHeader) ? cookieHeader.join('; ') : (cookieHeader ?? '');
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const session = signInStateOf(world).sessions.get(part.slice(eq + 1).trim());
    if (session) return session;
  }
  return undefined;
}

/**
 * The home UPN of a B2B guest: `alice_fabrikam.example#EXT#@contoso.example` → `alice@fabrikam.example`
 * (the `#EXT#` form Entra gives invited users; a guest added without it keeps its UPN).
 */
export function homeUpnOf(user: SimUser): string {
  const upn = user.userPrincipalName.toLowerCase();
  if (!user.guest) return upn;
  const ext = upn.indexOf('#ext#');
  if (ext < 0) return upn;
  const local = upn.slice(0, ext);
  const at = local.lastIndexOf('_');
  return at < 0 ? local : `${local.slice(0, at)}@${local.slice(at + 1)}`;
}

/** Who a person is when they pick or type an account: the member account it names, or the guest's home. */
export function personOf(tenantOfUser: SimTenant, user: SimUser): { homeTenantId: string; homeUpn: string } {
  return user.guest
    ? { homeTenantId: user.homeTenantId, homeUpn: homeUpnOf(user) }
    : { homeTenantId: tenantOfUser.id, homeUpn: user.userPrincipalName.toLowerCase() };
}

/** The user object a person is in `tenant`: their member account at home, or their guest account here. */
export function resolveAccount(
  tenant: SimTenant,
  person: { homeTenantId: string; homeUpn: string },
): SimUser | undefined {
  if (tenant.id === person.homeTenantId)
    return tenant.users.find((u) => !u.guest && u.userPrincipalName.toLowerCase() === person.homeUpn);
  return tenant.users.find(
    (u) => u.guest && u.homeTenantId === person.homeTenantId && homeUpnOf(u) === person.homeUpn,
  );
}
