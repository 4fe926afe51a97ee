/**
 * Custody of the secrets a mailbox grant keeps (a user's Microsoft refresh token): envelope encryption as
 * docs/delegated-custody.md chose it. A secret is sealed with AES-256-GCM under a data key, with the grant's id
 * as associated data (a sealed value moved to another row does not open), and the data key is wrapped by the
 * broker's Key Vault key (KeyWrapping): what is stored — ciphertext, nonce, tag, the wrapped data key and the key
 * version that wrapped it — reveals nothing without Key Vault. An instance makes one data key when it first
 * seals and keeps the data keys it unwrapped in memory (bounded), so Key Vault sees one wrap per instance and
 * one unwrap per data key per instance, not an operation per token (Key Vault's limits:
 * https://learn.microsoft.com/azure/key-vault/general/service-limits). The plaintext is never logged or kept
 * beyond the call.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyWrapping, WrappedKey } from '../adapters/keyvault/port.js';

/**
 * The Key Vault key that wraps the data keys: an RSA key infra/app/keyvault.bicep creates (and the sandbox's
 * vault holds: simulators/sandbox.ts), which the broker's identity may only get, wrap and unwrap with (Key Vault
 * Crypto User, infra/app/role-assignments.bicep).
 */
export const GRANTS_KEY_NAME = 'mailbox-grants';

/** A sealed secret, as stored (every field base64url but `keyId`). */
export interface Sealed {
  readonly v: 1;
  /** The Key Vault key version that wrapped `dataKey`. */
  readonly keyId: string;
  readonly dataKey: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/** The sealed value does not open: tampered, moved to another grant, or not a sealed value at all. */
export class SealBroken extends Error {
  constructor() {
    super('The sealed secret does not open (tampered, or sealed for another grant)');
    this.name = 'SealBroken';
  }
}

export interface Custody {
  /** Seals `secret` for the grant `grantId`. */
  seal(secret: string, grantId: string): Promise<Sealed>;
  /** Opens what `seal` made for `grantId`; SealBroken otherwise. Key Vault errors pass through. */
  open(sealed: Sealed, grantId: string): Promise<string>;
}

/** GCM's full 128-bit tag (NIST SP 800-38D §5.2.1.2). */
const TAG_BYTES = 16;

/** Unwrapped data keys kept per instance (each 32 bytes; the broker makes one per instance start). */
const MAX_DATA_KEYS = 256;

export function createCustody(keys: KeyWrapping, options: { readonly maxDataKeys?: number } = {}): Custody {
  const max = options.maxDataKeys ?? MAX_DATA_KEYS;
  let current: Promise<{ key: Buffer; wrapped: WrappedKey }> | undefined;
  const unwrapped = new Map<string, Promise<Buffer>>();
  const cacheKey = (w: WrappedKey) => `${w.keyId} ${w.wrapped}`;

  const dataKeyToSeal = () => {
    current ??= (async () => {
      const key = randomBytes(32);
      const wrapped = await keys.wrap(key);
      unwrapped.set(cacheKey(wrapped), Promise.resolve(key));
      return { key, wrapped };
    })().catch((err: unknown) => {
      current = undefined; // a failed wrap is not remembered: the next seal tries again
      throw err;
    });
    return current;
  };

  const dataKeyToOpen = (w: WrappedKey): Promise<Buffer> => {
    const id = cacheKey(w);
    let key = unwrapped.get(id);
    if (key) {
      unwrapped.delete(id); // most recently used last
      unwrapped.set(id, key);
      return key;
    }
    if (unwrapped.size >= max) unwrapped.delete(unwrapped.keys().next().value!);
    // One unwrap for concurrent opens of the same data key; a failure is not kept.
    key = keys.unwrap(w).catch((err: unknown) => {
      unwrapped.delete(id);
      throw err;
    });
    unwrapped.set(id, key);
    return key;
  };

  return {
    async seal(secret, grantId) {
      const { key, wrapped } = await dataKeyToSeal();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(grantId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return {
        v: 1,
        keyId: wrapped.keyId,
        dataKey: wrapped.wrapped,
        iv: iv.toString('base64url'),
        ciphertext: ciphertext.toString('base64url'),
        tag: cipher.getAuthTag().toString('base64url'),
      };
    },
    async open(sealed, grantId) {
      if (sealed?.v !== 1 || typeof sealed.keyId !== 'string' || typeof sealed.dataKey !== 'string')
        throw new SealBroken();
      const key = await dataKeyToOpen({ keyId: sealed.keyId, wrapped: sealed.dataKey });
      try {
        // authTagLength: without it Node accepts a tag as short as 4 bytes, which an attacker could forge.
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(Buffer.from(grantId, 'utf8'));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(sealed.ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SealBroken();
      }
    },
  };
}
