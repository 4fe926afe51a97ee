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

export function createBrokerKeys(secrets: SecretStore): BrokerKeys {
  let key: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    const existing = await secrets.get(BROKER_KEY_SECRET_NAME);
    if (existing) return Buffer.from(existing.value, 'base64url');
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
