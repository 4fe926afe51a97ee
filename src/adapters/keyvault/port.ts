/**
 * What the broker needs from a secret store: the home app's credential and the per-tenant "bring your own
 * app" credentials live there (SPEC.md, settings `HOME_APP_CREDENTIAL_NAME`, `PUT …/app-credential`). The one
 * implementation is Azure Key Vault (keyvault-secrets.ts).
 * @module
 */

export interface StoredSecret {
  readonly value: string;
  readonly contentType?: string;
  readonly expiresOn?: Date;
  /** The store's version id of this value. */
  readonly version: string;
  readonly updatedOn: Date;
}

export interface GetSecretOptions {
  /** Recover `name` when it is in deleted state, instead of answering undefined. */
  readonly recoverDeleted?: boolean;
}

export interface SetSecretOptions {
  readonly contentType?: string;
  /** Informational expiry (Key Vault does not enforce it on reads; about-secrets.md). */
  readonly expiresOn?: Date;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SecretStore {
  /**
   * The current version of `name`, or undefined when no such secret exists (never set, or deleted).
   * With `recoverDeleted`, a deleted secret that is still recoverable is recovered (waiting for the recovery)
   * and returned: for a secret that must never be replaced by a new value, such as the broker key.
   * Throws `SecretStoreUnavailable` when the store cannot answer now, `SecretStoreRefused` otherwise.
   */
  get(name: string, options?: GetSecretOptions): Promise<StoredSecret | undefined>;
  /**
   * Stores `value` as a new version of `name` and returns that version's id. A name that was deleted and is still
   * recoverable (soft delete; with purge protection for the whole retention) is recovered first and then gets
   * `value` as its new latest version; its older versions come back with it. Throws `SecretStoreUnavailable` when
   * the recovery does not complete in time (it goes on in the store: a later set finds the name live).
   */
  set(name: string, value: string, options?: SetSecretOptions): Promise<string>;
  /**
   * Removes `name` for good: deletes it, waits until the deletion has completed, and purges it when the store
   * allows purging (with purge protection on it stays recoverable until its retention ends). A name that
   * does not exist is not an error, so a failed delete can simply be retried.
   */
  delete(name: string): Promise<void>;
}

/** The store is unreachable, failing (5xx) or throttling (429); retry after `retryAfterSeconds`. */
export class SecretStoreUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super('Secret store unavailable', options);
    this.name = new.target.name;
  }
}

/**
 * The store answered, and refused: no permission, a name in deleted state, a bad name, a disabled secret …
 * `code` is the store's error code (for Key Vault the inner code when there is one, e.g. `SecretDisabled`,
 * `ObjectIsDeletedButRecoverable`, `AccessDenied`). The message names the operation and the secret's name,
 * never its value.
 */
export class SecretStoreRefused extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A data key wrapped by a Key Vault key: the key version that wrapped it (its `kid`) and the wrapped bytes. */
export interface WrappedKey {
  /** `https://{vault}/keys/{name}/{version}`: the version that can unwrap it. */
  readonly keyId: string;
  /** base64url. */
  readonly wrapped: string;
}

/**
 * Wraps and unwraps data keys with one Key Vault key (envelope encryption, docs/delegated-custody.md). The key's
 * private part never leaves Key Vault: unwrapping is a Key Vault operation; wrapping may be local from the
 * public part. Errors as the SecretStore's: SecretStoreUnavailable (answers 503) or SecretStoreRefused.
 */
export interface KeyWrapping {
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  unwrap(key: WrappedKey): Promise<Buffer>;
}
