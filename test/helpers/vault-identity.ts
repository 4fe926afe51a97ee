/**
 * The broker's own identity towards the sandbox vault (its managed identity in Azure), for tests that reach the
 * Key Vault simulator directly or through the SDK adapters: an app-only token for `https://vault.azure.net` from
 * the simulated Entra ID's control route.
 * @module
 */
import { inject } from 'vitest';
import type { TokenCredential } from '../../src/adapters/identity.js';

export async function brokerVaultToken(): Promise<string> {
  const sandbox = inject('sandbox');
  const res = await fetch(`${inject('controlUrl')}/_sim/tokens/app`, {
    method: 'POST',
    body: JSON.stringify({
      tenant: sandbox.vendorTenantId,
      appId: sandbox.brokerIdentity.clientId,
      resource: 'https://vault.azure.net',
    }),
  });
  if (res.status !== 200) throw new Error(`control route answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A TokenCredential that gives `brokerVaultToken`, for the SDK adapters. */
export const brokerVaultCredential: TokenCredential = {
  async getToken() {
    return { token: await brokerVaultToken(), expiresOnTimestamp: Date.now() + 3_000_000 };
  },
};
