/**
 * What the broker needs to sign the consenting admin in with OpenID Connect (SPEC.md "Customers",
 * FACTS.md §14): an authorization URL (code flow + PKCE + nonce, scope `openid profile`) and the redemption
 * of the code into a verified identity. The port speaks in the domain's words; msal-sign-in.ts is the one
 * implementation. PKCE helpers (RFC 7636) live here because the broker derives its verifiers itself.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';

/** The client id of the bundle's app to sign in with (src/credentials/bundle-apps.ts); none: the home app. */
interface WithApp {
  readonly app?: string;
}

export interface AuthorizationUrlRequest extends WithApp {
  /** The tenant to sign in to (GUID): the one the admin-consent callback named. */
  readonly tenantId: string;
  /** Must be registered on the home app exactly (FACTS.md §1.4), e.g. `${BROKER_PUBLIC_URL}/consent/signin`. */
  readonly redirectUri: string;
  readonly state: string;
  readonly nonce: string;
  /** RFC 7636 §4.2 S256 challenge: `codeChallengeFor(verifier)`. */
  readonly codeChallenge: string;
  /** `none`: silent, or an error redirect (login_required / interaction_required, FACTS.md §14). */
  readonly prompt?: 'none' | 'select_account' | 'login';
  /** Pre-fills the sign-in page; never an identity. */
  readonly loginHint?: string;
  /**
   * Delegated scopes of one resource to ask for besides the sign-in's (a mailbox grant's, e.g.
   * `https://outlook.office365.com/IMAP.AccessAsUser.All`); MSAL adds `openid profile offline_access`.
   */
  readonly scopes?: readonly string[];
}

export interface RedeemCodeRequest extends WithApp {
  readonly tenantId: string;
  readonly code: string;
  /** The same redirect URI as in the authorization request. */
  readonly redirectUri: string;
  readonly codeVerifier: string;
  /** The nonce of the authorization request: the ID token must carry exactly this one. */
  readonly nonce: string;
}

/** The person whose ID token was verified (FACTS.md §14). Identify them by `tenantId` + `objectId` only. */
export interface SignedInUser {
  /** `tid`: the tenant the user signed in to (a guest gets the resource tenant's). */
  readonly tenantId: string;
  /** `oid`: the user object in that tenant. */
  readonly objectId: string;
  /** `name`, else `preferred_username`: for display only, mutable, never an identity (claims-validation). */
  readonly displayName: string;
  /** `wids`: directory role template ids held in that tenant; [] when absent (the app must ask for them). */
  readonly directoryRoleIds: readonly string[];
  /** `roles`: the signed-in app's app roles assigned to the user (e.g. Broker.Admin on the home app); [] when none. */
  readonly appRoles: readonly string[];
  /** `acct` = 1, or an `idp` other than `iss`: a B2B guest, not a member of the tenant. */
  readonly isGuest: boolean;
  /** `iss`, e.g. https://login.microsoftonline.com/{tid}/v2.0. */
  readonly issuer: string;
}

export interface AdminSignIn {
  /**
   * The URL of `/{tenantId}/oauth2/v2.0/authorize` to send the browser to.
   * Guarantees: response_type=code, response_mode=query, code_challenge_method=S256, the given state and nonce;
   * only for a tenant Entra has just said it knows (its OpenID configuration was read, on every authority host,
   * also where MSAL itself needs none), so that the browser is never sent to Microsoft's error page.
   * Rejects with `EntraUnavailable` when the tenant's metadata cannot be read (timeout, 429, 5xx),
   * `SignInRefused` when Entra refuses it (unknown tenant: `aadsts` "90002").
   */
  authorizationUrl(request: AuthorizationUrlRequest): Promise<string>;
  /**
   * Redeems `code` and verifies the ID token: signature against the tenant's published keys, `iss` =
   * `{authority}/{tid}/v2.0`, `aud` = the home app, `exp`/`nbf`, `nonce`. It reports `tid` and does not
   * compare it with `tenantId`: whether the user is the right tenant's member is the caller's decision.
   * Rejects with `SignInRefused` when Entra refuses the code (invalid_grant …) or the ID token fails
   * a check, with `EntraUnavailable` on outages; never with an SDK error. Keeps no tokens.
   */
  redeemCode(request: RedeemCodeRequest): Promise<SignedInUser>;
  /**
   * As `redeemCode`, for a mailbox grant: asks for `scopes` (one resource's delegated scopes) and keeps what a
   * grant needs — the user's refresh token (from MSAL's cache, then removed from it) and sign-in name. Rejects
   * with `SignInRefused('no_refresh_token')` when Entra gave none.
   */
  redeemGrantCode(
    request: RedeemCodeRequest & { readonly scopes: readonly string[] },
  ): Promise<GrantSignedIn>;
  /**
   * A user's access token for `scopes` (one resource's delegated scopes) from the refresh token a grant keeps,
   * with the new refresh token Entra returns with it (the old one stays valid: Microsoft's refresh-token page).
   * Rejects with `SignInRefused` when Entra refuses the refresh (`invalid_grant` and its AADSTS code: revoked,
   * expired, MFA or sign-in frequency, consent removed, user disabled) and `EntraUnavailable` on outages.
   */
  redeemRefreshToken(request: {
    readonly app?: string;
    readonly tenantId: string;
    readonly refreshToken: string;
    readonly scopes: readonly string[];
  }): Promise<UserAccessToken>;
}

/** A user's access token, and the refresh token that came with it (if Entra sent one). */
export interface UserAccessToken {
  readonly accessToken: string;
  readonly expiresOn: Date;
  readonly refreshToken: string | undefined;
}

/** A mailbox user's sign-in: who, and the refresh token the broker keeps for them (never logged, never shown). */
export interface GrantSignedIn {
  readonly user: SignedInUser;
  /** `preferred_username`: the sign-in name (UPN), lower case; compared with the grant's mailbox. */
  readonly userPrincipalName: string;
  readonly refreshToken: string;
}

/**
 * Entra refused the sign-in, or its answer failed our checks. `error` is the OAuth error (`invalid_grant`,
 * `interaction_required`…) or ours (`invalid_id_token`, `nonce_mismatch`, `tenant_mismatch`); `aadsts` the
 * number as text (e.g. "501481"). Branch on these, never on the message (E-ERR).
 */
export class SignInRefused extends Error {
  constructor(
    readonly error: string,
    readonly aadsts: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** RFC 7636 §4.2: `code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))` (S256). */
export function codeChallengeFor(verifier: string): string {
  // RFC 7636 §4.1: 43–128 characters from the unreserved set.
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier))
    throw new RangeError('a PKCE code_verifier is 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 §4.1: 32 random octets, base64url (43 characters), and its S256 challenge. */
export function newPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: codeChallengeFor(verifier) };
}
