/**
 * `SecretStore` on Azure Key Vault with `@azure/keyvault-secrets` (the only file that imports it). A set of a
 * name in deleted state recovers it first, so that callers need not know about soft delete and purge protection.
 * SDK results become port types here; SDK errors become `SecretStoreUnavailable` (network, timeout, 5xx, 429)
 * or `SecretStoreRefused` (anything else), built from status and code only: an SDK `RestError` carries the
 * request, whose body holds the secret value on a set, so it is never passed on as a `cause`.
 * @module
 */
import { CLOUD_NAMES, cloudNamed } from '../../cloud/clouds.js';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type { TokenCredential } from '../identity.js';
import {
  SecretStoreRefused,
  SecretStoreUnavailable,
  type SecretStore,
  type SetSecretOptions,
  type StoredSecret,
} from './port.js';

export interface KeyVaultSecretStoreConfig {
  /** e.g. https://{vault}.vault.azure.net */
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  /** The SDK's own retries (core-rest-pipeline: exponential, and Retry-After on 429/503). Defaults: the SDK's. */
  readonly retry?: {
    readonly maxRetries?: number;
    readonly retryDelayInMs?: number;
    readonly maxRetryDelayInMs?: number;
  };
  /** Bound on one operation including the SDK's retries; past it the store counts as unavailable. Default 30 s. */
  readonly operationTimeoutMs?: number;
  /** How often a delete polls for completion (SDK default 2 s). */
  readonly deletePollIntervalMs?: number;
  /** How often a recovery polls for completion (default 1 s; the SDK's is 2 s). */
  readonly recoverPollIntervalMs?: number;
  /**
   * Bound on a set that has to recover a deleted secret first (the recover call, waiting for the recovery, and
   * the set). Past it the store counts as unavailable; the recovery goes on in Key Vault. Default 60 s.
   */
  readonly recoveryTimeoutMs?: number;
}

/**
 * Data-plane DNS suffixes of Key Vault in each cloud (src/cloud/clouds.ts, from
 * MicrosoftDocs/azure-docs:articles/key-vault/general/about-keys-secrets-certificates.md, "DNS suffixes for
 * object identifiers"), and from the same page the retired German cloud's and Managed HSM's.
 */
export const KEY_VAULT_DNS_SUFFIXES = [
  ...new Set(CLOUD_NAMES.map((name) => `.${cloudNamed(name).keyVaultDnsSuffix}`)),
  '.vault.microsoftazure.de',
  '.managedhsm.azure.net',
];

/** Used when a failure carries no Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * Key Vault's inner error codes for a name that comes back (Key Vault error bodies, `innererror.code`):
 * - `ObjectIsDeletedButRecoverable`: the name is in deleted state (soft delete); with purge protection it stays so
 *   for the whole retention (7–90 days), since "a key vault object cannot be created in a given vault if that key
 *   vault contains an object with the same name and which is in a deleted state"
 *   (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview, "Soft-delete retention period").
 * - `ObjectIsBeingRecovered`: a recovery is still in progress; Key Vault answers it to a set even right after the
 *   recover poller has seen the secret again (Azure/azure-sdk-for-net#31581), so a set retries it briefly.
 */
const DELETED_BUT_RECOVERABLE = 'ObjectIsDeletedButRecoverable';
const BEING_RECOVERED = 'ObjectIsBeingRecovered';
/** Pause between tries while a recovery is in progress (doubling, at most 2 s). */
const BEING_RECOVERED_FIRST_PAUSE_MS = 100;
const nextPause = (ms: number): number => Math.min(ms * 2, 2_000);

/** Waits `ms`, or rejects with the signal's reason once it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

export function createKeyVaultSecretStore(config: KeyVaultSecretStoreConfig): SecretStore {
  const host = new URL(config.vaultUrl).hostname.toLowerCase();
  const options: SecretClientOptions = {
    // The SDK checks that the vault host ends with "." + the challenge's resource host (vault.azure.net), and
    // refuses the challenge otherwise (FACTS.md §8.3, KV-POL verifyChallengeResource). A vault reached under
    // another name (an operator's private endpoint or proxy, or a stand-in on localhost) cannot pass that
    // check, so it is turned off exactly for hosts outside Key Vault's own DNS suffixes.
    disableChallengeResourceVerification: !KEY_VAULT_DNS_SUFFIXES.some((s) => host.endsWith(s)),
    ...(config.retry ? { retryOptions: { ...config.retry } } : {}),
  };
  const client = new SecretClient(config.vaultUrl, config.credential, options);
  const timeoutMs = config.operationTimeoutMs ?? 30_000;
  const call = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => fn(AbortSignal.timeout(timeoutMs));
  const recoveryTimeoutMs = config.recoveryTimeoutMs ?? 60_000;

  /**
   * Recovers the deleted secret `name` and waits until the recovery has completed; false when there is no
   * deleted secret of that name (never deleted, purged, or recovered by someone else meanwhile). When another
   * instance's recovery is already under way (409 ObjectIsBeingRecovered), waits for that one.
   */
  const recover = async (name: string, abortSignal: AbortSignal): Promise<boolean> => {
    try {
      // The poller reads the secret first (done if it is live), else POSTs /deletedsecrets/{name}/recover and
      // then reads the secret until it stops answering 404
      // (npm:@azure/keyvault-secrets@4.12.0:dist/esm/lro/recover/operation.js).
      const poller = await client.beginRecoverDeletedSecret(name, {
        abortSignal,
        intervalInMs: config.recoverPollIntervalMs ?? 1_000,
      });
      await poller.pollUntilDone({ abortSignal });
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return false;
      if (!(status === 409 && codeOf(err) === BEING_RECOVERED)) throw toPortError(err, 'recover', name);
    }
    for (let pause = BEING_RECOVERED_FIRST_PAUSE_MS; ; pause = nextPause(pause)) {
      try {
        await client.getSecret(name, {
          abortSignal: AbortSignal.any([abortSignal, AbortSignal.timeout(timeoutMs)]),
        });
        return true;
      } catch (err) {
        if (statusOf(err) !== 404) throw toPortError(err, 'recover', name);
      }
      await sleep(pause, abortSignal);
    }
  };

  /** `put`, after recovering `name` when `startRecovery`, retried while Key Vault answers ObjectIsBeingRecovered. */
  const recoverThenSet = async <T>(
    name: string,
    startRecovery: boolean,
    put: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const abortSignal = AbortSignal.timeout(recoveryTimeoutMs);
    if (startRecovery) await recover(name, abortSignal);
    for (let pause = BEING_RECOVERED_FIRST_PAUSE_MS; ; pause = nextPause(pause)) {
      try {
        return await put(AbortSignal.any([abortSignal, AbortSignal.timeout(timeoutMs)]));
      } catch (err) {
        if (!(statusOf(err) === 409 && codeOf(err) === BEING_RECOVERED)) throw err;
      }
      await sleep(pause, abortSignal);
    }
  };

  return {
    async get(name, getOptions = {}) {
      try {
        const secret = await call((abortSignal) => client.getSecret(name, { abortSignal }));
        return toStoredSecret(name, secret.value, secret.properties);
      } catch (err) {
        if (statusOf(err) !== 404) throw toPortError(err, 'get', name);
        if (!getOptions.recoverDeleted) return undefined;
      }
      try {
        if (!(await recover(name, AbortSignal.timeout(recoveryTimeoutMs)))) return undefined;
        const secret = await call((abortSignal) => client.getSecret(name, { abortSignal }));
        return toStoredSecret(name, secret.value, secret.properties);
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw toPortError(err, 'get', name);
      }
    },

    async set(name, value, setOptions: SetSecretOptions = {}) {
      const put = (signal: AbortSignal) =>
        client.setSecret(name, value, {
          abortSignal: signal,
          ...(setOptions.contentType !== undefined ? { contentType: setOptions.contentType } : {}),
          ...(setOptions.expiresOn !== undefined ? { expiresOn: setOptions.expiresOn } : {}),
          ...(setOptions.tags !== undefined ? { tags: { ...setOptions.tags } } : {}),
        });
      try {
        let secret;
        try {
          secret = await call(put);
        } catch (err) {
          const code = statusOf(err) === 409 ? codeOf(err) : undefined;
          if (code !== DELETED_BUT_RECOVERABLE && code !== BEING_RECOVERED) throw err;
          // The name was deleted (an offboarded tenant, a removed app credential, a deleted broker key) and,
          // with purge protection, cannot be purged: recover it, then set the new value as its next version.
          secret = await recoverThenSet(name, code === DELETED_BUT_RECOVERABLE, put);
        }
        const version = secret.properties.version;
        if (!version)
          throw new SecretStoreRefused(
            undefined,
            undefined,
            `Key Vault set of "${name}" returned no version`,
          );
        return version;
      } catch (err) {
        throw toPortError(err, 'set', name);
      }
    },

    async delete(name) {
      let recoveryLevel: string | undefined;
      try {
        const poller = await call((abortSignal) =>
          client.beginDeleteSecret(name, {
            abortSignal,
            ...(config.deletePollIntervalMs !== undefined
              ? { intervalInMs: config.deletePollIntervalMs }
              : {}),
          }),
        );
        // The delete completes asynchronously; the poller reads /deletedsecrets/{name} until it is there
        // (npm:@azure/keyvault-secrets@4.12.0:dist/esm/lro/delete/operation.js).
        const deleted = await call((abortSignal) => poller.pollUntilDone({ abortSignal }));
        if (!deleted.properties.recoveryId) return; // no soft delete: the secret is gone already
        recoveryLevel = deleted.properties.recoveryLevel;
      } catch (err) {
        if (statusOf(err) !== 404) throw toPortError(err, 'delete', name);
        // Not live: perhaps an earlier delete succeeded and its purge did not. Look for it in deleted state.
        try {
          const deleted = await call((abortSignal) => client.getDeletedSecret(name, { abortSignal }));
          recoveryLevel = deleted.properties.recoveryLevel;
        } catch (inner) {
          if (statusOf(inner) === 404) return;
          throw toPortError(inner, 'delete', name);
        }
      }
      // KnownDeletionRecoveryLevel: only the "+Purgeable" levels allow purging before the retention ends.
      if (!recoveryLevel?.endsWith('Purgeable') || recoveryLevel === 'Purgeable') return;
      try {
        await call((abortSignal) => client.purgeDeletedSecret(name, { abortSignal }));
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw toPortError(err, 'purge', name);
      }
    },
  };
}

interface SdkSecretProperties {
  readonly version?: string;
  readonly contentType?: string;
  readonly expiresOn?: Date;
  readonly updatedOn?: Date;
  readonly createdOn?: Date;
}

function toStoredSecret(name: string, value: string | undefined, p: SdkSecretProperties): StoredSecret {
  if (value === undefined || !p.version)
    throw new SecretStoreRefused(undefined, undefined, `Key Vault get of "${name}" returned no value`);
  return {
    value,
    version: p.version,
    updatedOn: p.updatedOn ?? p.createdOn ?? new Date(0),
    ...(p.contentType !== undefined ? { contentType: p.contentType } : {}),
    ...(p.expiresOn !== undefined ? { expiresOn: p.expiresOn } : {}),
  };
}

// ---- errors -------------------------------------------------------------------------------------------

/** The HTTP status of an SDK error (`RestError.statusCode`, also on @azure/identity's AuthenticationError). */
function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Key Vault's error code, preferring the inner one (`details.error.innerError.code`, KV-NPM models.js). */
function codeOf(err: unknown): string | undefined {
  const e = err as {
    code?: unknown;
    details?: { error?: { code?: unknown; innerError?: { code?: unknown } } };
  };
  const inner = e.details?.error?.innerError?.code;
  if (typeof inner === 'string') return inner;
  const outer = e.details?.error?.code ?? e.code;
  return typeof outer === 'string' ? outer : undefined;
}

function retryAfterOf(err: unknown): number {
  const headers = (err as { response?: { headers?: { get?: (name: string) => string | undefined } } })
    .response?.headers;
  const raw = typeof headers?.get === 'function' ? headers.get('retry-after') : undefined;
  if (raw === undefined) return DEFAULT_RETRY_AFTER_SECONDS;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(raw); // RFC 9110 §10.2.3: delay-seconds or an HTTP-date
  return Number.isFinite(date)
    ? Math.max(0, Math.ceil((date - Date.now()) / 1000))
    : DEFAULT_RETRY_AFTER_SECONDS;
}

/** Codes of transport failures (Node's socket errors and core-rest-pipeline's REQUEST_SEND_ERROR). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
]);

/** A Key Vault SDK error as the port's: unavailable (5xx, 429, timeout, network) or refused, naming what. */
export function toPortError(err: unknown, operation: string, name: string, object = 'secret'): Error {
  if (err instanceof SecretStoreRefused || err instanceof SecretStoreUnavailable) return err;
  const status = statusOf(err);
  if (status !== undefined && (status >= 500 || status === 429))
    return new SecretStoreUnavailable(retryAfterOf(err));
  if (status === undefined) {
    const e = err as { name?: unknown; code?: unknown };
    if (
      e.name === 'AbortError' ||
      e.name === 'TimeoutError' ||
      (typeof e.code === 'string' && NETWORK_CODES.has(e.code))
    )
      return new SecretStoreUnavailable(DEFAULT_RETRY_AFTER_SECONDS);
  }
  const code = codeOf(err);
  return new SecretStoreRefused(
    status,
    code,
    `Key Vault refused ${operation} of ${object} "${name}"${status !== undefined ? `: ${status}` : ''}${code ? ` ${code}` : ''}`,
  );
}
