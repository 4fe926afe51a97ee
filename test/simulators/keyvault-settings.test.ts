/**
 * Vault settings the shared sandbox vault does not use, on a private Key Vault simulator with its own World
 * (same sandbox CA, so the worker trusts it): purge protection off (and on again), soft delete off, an
 * asynchronous delete, an access policy by object id, `seedVaultSecret` — each seen on the wire and through the
 * SecretStore adapter.
 * @module
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';
import { issueAppToken } from '../../simulators/common/app-token.js';
import { startSimServer, type SimServer } from '../../simulators/common/server.js';
import { createTokenKeys } from '../../simulators/common/tokens.js';
import { KEY_VAULT } from '../../simulators/common/well-known.js';
import { World, type SimApp, type SimTenant } from '../../simulators/common/world.js';
import {
  ALL_SECRET_PERMISSIONS,
  configureVault,
  DEFAULT_RECOVERY_DELAY_MS,
  keyVaultErrorBody,
  keyVaultRoutes,
  seedVaultSecret,
} from '../../simulators/keyvault/index.js';
import type { TokenCredential } from '../../src/adapters/identity.js';
import { createKeyVaultSecretStore } from '../../src/adapters/keyvault/keyvault-secrets.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
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

async function raw(method: string, path: string, body?: unknown): Promise<Response> {
  const token = (await credential.getToken('https://vault.azure.net/.default'))!.token;
  return fetch(`${server.url}${path}?api-version=7.6`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const store = () =>
  createKeyVaultSecretStore({
    vaultUrl: server.url,
    credential,
    retry: { maxRetries: 0 },
    deletePollIntervalMs: 20,
  });

beforeAll(async () => {
  tenant = world.addTenant({ id: TENANT, displayName: 'Private vault tenant' });
  app = world.addApp({ displayName: 'vault reader', homeTenantId: TENANT });
  const sp = world.servicePrincipal(tenant, app.appId)!;
  // Access by object id only, as a Key Vault access policy names a principal.
  configureVault(world, {
    tenantId: TENANT,
    name: 'private-vault',
    // Purgeable, unlike the default (as deployed): the delete-and-purge paths of the adapter are tested here.
    purgeProtection: false,
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

describe('Key Vault simulator settings', () => {
  it('challenges with the configured tenant and serves a seeded secret', async () => {
    const challenge = await fetch(`${server.url}/secrets?api-version=7.6`);
    expect(challenge.headers.get('www-authenticate')).toBe(
      `Bearer authorization="https://login.example.test/${TENANT}", resource="https://vault.azure.net"`,
    );
    seedVaultSecret(world, 'home-app-secret', 'seeded-value', 'text/plain');
    expect(await store().get('home-app-secret')).toMatchObject({
      value: 'seeded-value',
      contentType: 'text/plain',
    });
  });

  it('with purge protection: recoveryLevel Recoverable, purge 403, and delete leaves the secret recoverable', async () => {
    configureVault(world, { purgeProtection: true });
    try {
      await store().set('protected', 'v');
      await store().delete('protected');
      const deleted = await raw('GET', '/deletedsecrets/protected');
      expect(deleted.status).toBe(200);
      expect(
        ((await deleted.json()) as { attributes: { recoveryLevel: string } }).attributes.recoveryLevel,
      ).toBe('Recoverable');
      const purge = await raw('DELETE', '/deletedsecrets/protected');
      expect(purge.status).toBe(403);
      expect(((await purge.json()) as { error: { code: string } }).error.code).toBe('Forbidden');
    } finally {
      configureVault(world, { purgeProtection: false });
    }
  });

  it('with soft delete off: recoveryLevel Purgeable, no recoveryId, and the name is free at once', async () => {
    configureVault(world, { softDelete: false });
    try {
      await raw('PUT', '/secrets/plain', { value: 'v' });
      const del = await raw('DELETE', '/secrets/plain');
      const body = (await del.json()) as { recoveryId?: string; attributes: { recoveryLevel: string } };
      expect(body.recoveryId).toBeUndefined();
      expect(body.attributes.recoveryLevel).toBe('Purgeable');
      expect((await raw('PUT', '/secrets/plain', { value: 'again' })).status).toBe(200);
      await expect(store().delete('plain')).resolves.toBeUndefined();
      expect(await store().get('plain')).toBeUndefined();
    } finally {
      configureVault(world, { softDelete: true });
    }
  });

  it('with an asynchronous delete: 409 ObjectIsBeingDeleted meanwhile, and the adapter waits before purging', async () => {
    configureVault(world, { deletionDelayMs: 300, recoveryDelayMs: 0 });
    try {
      await raw('PUT', '/secrets/slow', { value: 'v' });
      expect((await raw('DELETE', '/secrets/slow')).status).toBe(200);
      expect((await raw('GET', '/deletedsecrets/slow')).status).toBe(404);
      const conflict = await raw('PUT', '/secrets/slow', { value: 'w' });
      expect(conflict.status).toBe(409);
      expect(
        ((await conflict.json()) as { error: { innererror: { code: string } } }).error.innererror.code,
      ).toBe('ObjectIsBeingDeleted');
      await new Promise((r) => setTimeout(r, 350));
      expect((await raw('POST', '/deletedsecrets/slow/recover')).status).toBe(200);

      await store().delete('slow');
      expect((await raw('GET', '/deletedsecrets/slow')).status).toBe(404);
      expect((await raw('PUT', '/secrets/slow', { value: 'x' })).status).toBe(200);
    } finally {
      configureVault(world, { deletionDelayMs: 0, recoveryDelayMs: DEFAULT_RECOVERY_DELAY_MS });
    }
  });

  it('keeps its state as plain JSON (the World can be persisted)', () => {
    const copy = JSON.parse(JSON.stringify(world.vault)) as typeof world.vault;
    expect(copy).toEqual(world.vault);
  });
});
