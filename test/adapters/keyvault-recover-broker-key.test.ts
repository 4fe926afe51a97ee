/**
 * The broker's HMAC key (`broker-hmac-key`, src/keys/broker-keys.ts) coming back after a delete, on a private
 * Key Vault simulator with its own World (so the shared vault's key, which every other test broker uses, is left
 * alone) set up as deployed: soft delete with purge protection (the default). With no appliance registered the
 * broker makes a new key; the name is in deleted state and cannot be purged, so the set must recover it first
 * instead of failing with 409 ObjectIsDeletedButRecoverable. Real `@azure/keyvault-secrets` SDK, real sockets.
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
      authorityUrl: urls.entra,
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
  it('is made anew by a broker with no appliance: the deleted key is recovered, then replaced', async () => {
    expect(world.vault).toMatchObject({ softDelete: true, purgeProtection: true });
    const noAppliance = () => Promise.resolve(false);
    const before = await createBrokerKeys(store(), noAppliance).derive('pkce', 'state-1');
    const original = world.vault.secrets[BROKER_KEY_SECRET_NAME]!.versions.at(-1)!.value;

    // Someone deletes the key (an operator's clean-up, a script); with purge protection it stays in deleted state.
    await store().delete(BROKER_KEY_SECRET_NAME);
    expect(world.vault.deleted[BROKER_KEY_SECRET_NAME]).toBeDefined();

    const after = await createBrokerKeys(store(), noAppliance).derive('pkce', 'state-1');
    expect(after).toMatch(/^[\w-]{43}$/);
    expect(after).not.toBe(before);
    const secret = world.vault.secrets[BROKER_KEY_SECRET_NAME]!;
    expect(secret.versions.map((v) => v.value)).toEqual([original, expect.not.stringMatching(original)]);
    expect(world.vault.deleted[BROKER_KEY_SECRET_NAME]).toBeUndefined();
    // Every instance now derives with the new key.
    expect(await createBrokerKeys(store(), () => Promise.resolve(true)).derive('pkce', 'state-1')).toBe(
      after,
    );
  });
});
