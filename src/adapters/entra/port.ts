/**
 * What the broker needs from Microsoft Entra ID: app-only tokens for a customer tenant, obtained with the
 * home app's credential (RFC 6749 §4.4). The port speaks in the domain's words; the one implementation,
 * msal.ts, is the only file that knows MSAL.
 * @module
 */

/** An app-only access token and what the broker reads from it (FACTS.md §4.1). */
export interface AppToken {
  readonly accessToken: string;
  readonly expiresOn: Date;
  /** App role values granted to the home app's service principal for this resource; empty proves nothing (E-CC). */
  readonly roles: readonly string[];
  /** `oid`: the home app's service principal object id in that tenant (SPEC.md). */
  readonly servicePrincipalId: string;
  /** `tid`: the tenant that issued the token. */
  readonly tenantId: string;
}

export interface AcquireOptions {
  /** Ask Entra again instead of answering from the adapter's token cache (a live check, a fresh consent). */
  readonly fresh?: boolean;
  /** The client id of the bundle's app to ask with (src/credentials/bundle-apps.ts); none: the home app. */
  readonly app?: string;
}

export interface EntraTokens {
  /**
   * App-only token for `tenantId` and `scope` (`{resource}/.default`).
   * Guarantees: resolves only with a token whose `tid` is `tenantId`'s GUID; rejects with `EntraRefused`
   * when Entra answered with an error (consent missing, bad credential, unknown tenant…), with
   * `EntraUnavailable` when Entra could not be reached or answered 429 / 5xx; never with an SDK error.
   */
  acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken>;
}

/** Entra could not answer: network failure, timeout, HTTP 429 or 5xx. Retry after `retryAfterSeconds`. */
export class EntraUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Entra ID unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Entra answered and refused. `aadsts` is the AADSTS number as text (e.g. "7000229"), `error` the OAuth
 * error code (e.g. "invalid_client"). The message is Entra's first description line: never a secret.
 * Microsoft says not to branch on description text (E-ERR); branch on `aadsts` and `error`.
 */
export class EntraRefused extends Error {
  constructor(
    readonly aadsts: string | undefined,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
