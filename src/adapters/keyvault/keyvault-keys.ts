/**
 * KeyWrapping on `@azure/keyvault-keys`' CryptographyClient: RSA-OAEP with the current version of one RSA key.
 * The SDK reads the key once (its public part, `keys/get`) and then wraps locally; every unwrap is a Key Vault
 * `unwrapKey` (`npm:@azure/keyvault-keys@4.10.2:dist/esm/cryptography/rsaCryptographyProvider.js`: "Unwrapping a
 * key using a local JsonWebKey is not supported"; https://learn.microsoft.com/rest/api/keyvault/keys/unwrap-key).
 * The identity needs Key Vault Crypto User on the vault (infra/app/role-assignments.bicep). RSA-OAEP (SHA-1
 * MGF) rather than RSA-OAEP-256 because only it wraps locally; it is one of Key Vault's wrap algorithms
 * ("RSA-OAEP", about-keys-details.md) and protects a random 32-byte key, not a message.
 * @module
 */
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import { KEY_VAULT_DNS_SUFFIXES, toPortError } from './keyvault-secrets.js';
import type { KeyWrapping, WrappedKey } from './port.js';

export interface KeyVaultKeyWrappingConfig {
  /** e.g. https://{vault}.vault.azure.net */
  readonly vaultUrl: string;
  /** The key's name; its current version wraps, any version that wrapped unwraps. */
  readonly keyName: string;
  readonly credential: TokenCredential;
  /** Bound on one operation including the SDK's retries. Default 10 s. */
  readonly operationTimeoutMs?: number;
}

const ALGORITHM = 'RSA-OAEP';
/** Clients kept for key versions seen (each holds the version's public key once read). */
const MAX_CLIENTS = 16;

export function createKeyVaultKeyWrapping(config: KeyVaultKeyWrappingConfig): KeyWrapping {
  const host = new URL(config.vaultUrl).hostname.toLowerCase();
  const options: CryptographyClientOptions = {
    // As for secrets (keyvault-secrets.ts): the challenge check cannot pass for a vault under another name.
    disableChallengeResourceVerification: !KEY_VAULT_DNS_SUFFIXES.some((s) => host.endsWith(s)),
  };
  const base = config.vaultUrl.replace(/\/+$/, '');
  const timeoutMs = config.operationTimeoutMs ?? 10_000;
  const current = new CryptographyClient(`${base}/keys/${config.keyName}`, config.credential, options);
  const byVersion = new Map<string, CryptographyClient>();
  const clientFor = (keyId: string): CryptographyClient => {
    let client = byVersion.get(keyId);
    if (!client) {
      if (byVersion.size >= MAX_CLIENTS) byVersion.delete(byVersion.keys().next().value!);
      client = new CryptographyClient(keyId, config.credential, options);
      byVersion.set(keyId, client);
    }
    return client;
  };
  return {
    async wrap(dataKey) {
      try {
        const result = await current.wrapKey(ALGORITHM, dataKey, {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
        if (!result.keyID) throw new Error('Key Vault answered a wrap without the key id');
        return { keyId: result.keyID, wrapped: Buffer.from(result.result).toString('base64url') };
      } catch (err) {
        throw toPortError(err, 'wrapKey', config.keyName, 'key');
      }
    },
    async unwrap(key: WrappedKey) {
      if (!key.keyId.toLowerCase().startsWith(`${base.toLowerCase()}/keys/${config.keyName.toLowerCase()}/`))
        throw new Error(`A data key wrapped by another key (${key.keyId}) cannot be unwrapped here`);
      try {
        const result = await clientFor(key.keyId).unwrapKey(
          ALGORITHM,
          Buffer.from(key.wrapped, 'base64url'),
          {
            abortSignal: AbortSignal.timeout(timeoutMs),
          },
        );
        return Buffer.from(result.result);
      } catch (err) {
        throw toPortError(err, 'unwrapKey', config.keyName, 'key');
      }
    },
  };
}
