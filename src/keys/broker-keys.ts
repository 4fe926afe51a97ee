/**
 * The broker's own secret key, kept in Key Vault and created there on first use: it derives values that must
 * be recomputable by any instance but unguessable to anyone else (the PKCE verifier and nonce of a sign-in,
 * bound to its state), so that no such secret is ever written to a table or a page.
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SecretStore } from '../adapters/keyvault/port.js';

export const BROKER_KEY_SECRET_NAME = 'broker-hmac-key';

export interface BrokerKeys {
  /** HMAC-SHA-256 of `data` under the broker key, separated by `purpose`; base64url. */
  derive(purpose: string, data: string): Promise<string>;
}

/**
 * The key is missing from Key Vault, and not recoverable as a deleted secret either, although the broker has used
 * one: a new key would silently invalidate every appliance's client secret (their verifiers are keyed hashes under
 * it), so the broker refuses to make one and the operator restores the secret instead (docs/operations.md
 * "Backup and restore").
 */
export class BrokerKeyMissing extends Error {
  constructor() {
    super(
      `The Key Vault secret ${BROKER_KEY_SECRET_NAME} is missing while appliances are registered: recover it (az keyvault secret recover --name ${BROKER_KEY_SECRET_NAME}) or restore its backup; a new key would invalidate every appliance secret.`,
    );
    this.name = 'BrokerKeyMissing';
  }
}

/**
 * `anyAppliance` tells whether an appliance is registered (whose secret verifier would depend on the key):
 * the key is created only while none is.
 */
export function createBrokerKeys(secrets: SecretStore, anyAppliance: () => Promise<boolean>): BrokerKeys {
  let key: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    // A deleted key comes back as it was (the vault keeps deleted secrets recoverable for its retention): every
    // appliance secret verifier depends on it, so it is recovered rather than ever replaced.
    const existing = await secrets.get(BROKER_KEY_SECRET_NAME, { recoverDeleted: true });
    if (existing) return Buffer.from(existing.value, 'base64url');
    if (await anyAppliance()) throw new BrokerKeyMissing();
    await secrets.set(BROKER_KEY_SECRET_NAME, randomBytes(32).toString('base64url'), {
      contentType: 'broker-hmac-key',
    });
    // Read back rather than use what we wrote: if two instances raced at first start, both now use the
    // version Key Vault holds as the latest.
    const stored = await secrets.get(BROKER_KEY_SECRET_NAME);
    if (!stored) throw new Error('the broker key vanished from Key Vault right after it was written');
    return Buffer.from(stored.value, 'base64url');
  };
  return {
    async derive(purpose, data) {
      key ??= load().catch((err: unknown) => {
        key = undefined;
        throw err;
      });
      return createHmac('sha256', await key)
        .update(`${purpose}\u0000${data}`)
        .digest('base64url');
    },
  };
}
