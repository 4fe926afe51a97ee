/**
 * The broker's HMAC key (`broker-hmac-key`, src/keys/broker-keys.ts) coming back after a delete, on a private
 * Key Vault simulator with its own World (so the shared vault's key, which every other test broker uses, is left
 * alone) set up as deployed: soft delete with purge protection (the default). The deleted key cannot be purged,
 * so a new key under its name would meet 409 ObjectIsDeletedButRecoverable; and with appliances registered a new
 * key would invalidate their secrets. The broker recovers the deleted key and goes on with it, whether appliances
 * are registered or not. Real `@azure/keyvault-secrets` SDK, real sockets.
 * @module
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issueAppToken } from '../../simulators/common/app-token.js';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';
import { startSimServer, type SimServer } from '../../simulators/common/server.js';
import { createTokenKeys } from '../../simulators/common/tokens.js';
import { KEY_VAULT } from '../../simulators/common/well-known.js';
import { World, type SimApp, type SimTenant } from '../../simulators/common/world.js';
import {
  ALL_SECRET_PERMISSIONS,
  configureVault,
  keyVaultErrorBody,
  keyVaultRoutes,
} from '../../simulators/keyvault/index.js';
import type { TokenCredential } from '../../src/adapters/identity.js';
import { createKeyVaultSecretStore } from '../../src/adapters/keyvault/keyvault-secrets.js';
import { BROKER_KEY_SECRET_NAME, createBrokerKeys } from '../../src/keys/broker-keys.js';

const TENANT = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const keys = createTokenKeys();
const world = new World();
const urls = { entra: 'https://login.example.test', graph: '', keyVault: '' };
let server: SimServer;
let tenant: SimTenant;
let app: SimApp;

const credential: TokenCredential = {
  async getToken() {
    const token = await issueAppToken(keys, {
      tenant,
      client: app,
      servicePrincipal: world.servicePrincipal(tenant, app.appId)!,
      resource: KEY_VAULT,
      audience: 'https://vault.azure.net',
      credentialType: 1,
      version: 1,
      cloud: world.cloud,
      nowMs: Date.now(),
    });
    return { token: token.accessToken, expiresOnTimestamp: Date.now() + token.expiresIn * 1000 };
  },
};

const store = () =>
  createKeyVaultSecretStore({
    vaultUrl: server.url,
    credential,
    retry: { maxRetries: 0 },
    deletePollIntervalMs: 20,
    recoverPollIntervalMs: 25,
  });

beforeAll(async () => {
  tenant = world.addTenant({ id: TENANT, displayName: 'Broker key vault tenant' });
  app = world.addApp({ displayName: 'broker identity', homeTenantId: TENANT });
  const sp = world.servicePrincipal(tenant, app.appId)!;
  // Only the tenant and access change; soft delete and purge protection stay at the defaults (as deployed).
  configureVault(world, {
    tenantId: TENANT,
    name: 'broker-key-vault',
    accessPolicies: [{ tenantId: TENANT, objectId: sp.objectId, permissions: [...ALL_SECRET_PERMISSIONS] }],
  });
  const tls = await loadOrCreateSandboxTls(join(dirname(inject('caBundlePath')), 'tls'));
  server = await startSimServer({
    name: 'keyvault',
    tls,
    world,
    routes: keyVaultRoutes({ world, keys, urls }),
    errorBody: keyVaultErrorBody,
  });
  urls.keyVault = server.url;
});

afterAll(async () => {
  await server?.close();
});

describe('broker key after a delete, on a vault with purge protection', () => {
  /** Derives once with a fresh broker (a new instance), so that the key is loaded from the vault. */
  const derive = (anyAppliance: boolean) =>
    createBrokerKeys(store(), () => Promise.resolve(anyAppliance)).derive('pkce', 'state-1');
  const deleteKey = async () => {
    // Someone deletes the key (an operator's clean-up, a script); with purge protection it stays in deleted state.
    await store().delete(BROKER_KEY_SECRET_NAME);
    expect(world.vault.deleted[BROKER_KEY_SECRET_NAME]).toBeDefined();
    expect(world.vault.secrets[BROKER_KEY_SECRET_NAME]).toBeUndefined();
  };

  it('is recovered, not replaced, while appliances depend on it (their secret verifiers stay valid)', async () => {
    expect(world.vault).toMatchObject({ softDelete: true, purgeProtection: true });
    const before = await derive(false);
    await deleteKey();

    expect(await derive(true)).toBe(before);
    expect(world.vault.deleted[BROKER_KEY_SECRET_NAME]).toBeUndefined();
    expect(world.vault.secrets[BROKER_KEY_SECRET_NAME]!.versions).toHaveLength(1);
  });

  it('is recovered as well by a broker with no appliance, instead of a new key that the deleted name blocks', async () => {
    const before = await derive(false);
    await deleteKey();

    expect(await derive(false)).toBe(before);
    expect(world.vault.secrets[BROKER_KEY_SECRET_NAME]!.versions).toHaveLength(1);
    // Every instance derives with it.
    expect(await derive(true)).toBe(before);
  });
});
