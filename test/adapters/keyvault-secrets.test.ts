/**
 * The Key Vault `SecretStore` with the real `@azure/keyvault-secrets` SDK against the Key Vault simulator over
 * real sockets: challenge authentication, versions, delete (no purge: the sandbox vault has purge protection, as
 * deployed; recovery on a set is in keyvault-recover.test.ts), not found, access denied, and faults (5xx, 429 with Retry-After, connection reset) becoming `SecretStoreUnavailable`.
 *
 * Credential: the real `ClientSecretCredential` (createAzureCredential) with the sandbox broker identity
 * against the Entra simulator when its token endpoint answers, so the chain identity → Entra sim → Key Vault
 * sim is tested; otherwise a small TokenCredential that mints the same token through the control route.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createAzureCredential, type TokenCredential } from '../../src/adapters/identity.js';
import { createKeyVaultSecretStore } from '../../src/adapters/keyvault/keyvault-secrets.js';
import {
  SecretStoreRefused,
  SecretStoreUnavailable,
  type SecretStore,
} from '../../src/adapters/keyvault/port.js';

const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Tokens from the simulator's control route, as Entra would issue them (for when Entra's endpoint is absent). */
function controlRouteCredential(appId: string): TokenCredential {
  return {
    async getToken(scopes, options) {
      const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
      const res = await fetch(`${inject('controlUrl')}/_sim/tokens/app`, {
        method: 'POST',
        body: JSON.stringify({
          tenant: options?.tenantId ?? inject('sandbox').vendorTenantId,
          appId,
          resource: scope.replace(/\/\.default$/, ''),
        }),
      });
      if (res.status !== 200) throw new Error(`control route answered ${res.status}`);
      const body = (await res.json()) as { access_token: string; expires_in: number };
      return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
    },
  };
}

/** Whether the Entra simulator's token endpoint issues a client-credentials token for the broker identity. */
async function entraTokenEndpointWorks(): Promise<boolean> {
  const { brokerIdentity } = inject('sandbox');
  try {
    const res = await fetch(`${inject('entraUrl')}/${brokerIdentity.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: brokerIdentity.clientId,
        client_secret: brokerIdentity.clientSecret,
        scope: 'https://vault.azure.net/.default',
      }),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

const realEntra = await entraTokenEndpointWorks();

function brokerCredential(): TokenCredential {
  const { brokerIdentity } = inject('sandbox');
  return realEntra
    ? createAzureCredential({
        kind: 'clientSecret',
        authorityHost: inject('entraUrl'),
        tenantId: brokerIdentity.tenantId,
        clientId: brokerIdentity.clientId,
        clientSecret: brokerIdentity.clientSecret,
      })
    : controlRouteCredential(brokerIdentity.clientId);
}

function store(credential = brokerCredential(), maxRetries = 2): SecretStore {
  return createKeyVaultSecretStore({
    vaultUrl: inject('keyVaultUrl'),
    credential,
    retry: { maxRetries, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
    deletePollIntervalMs: 20,
    operationTimeoutMs: 10_000,
  });
}

async function injectFault(fault: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${inject('controlUrl')}/_sim/faults`, {
    method: 'POST',
    body: JSON.stringify({ target: 'keyvault', ...fault }),
  });
  expect(res.status).toBe(201);
}

describe(`Key Vault SecretStore (credential: ${realEntra ? 'ClientSecretCredential via the Entra simulator' : 'control-route tokens'})`, () => {
  let secrets: SecretStore;
  beforeAll(() => {
    secrets = store();
  });

  it('sets a secret and gets it back with its version, content type and expiry', async () => {
    const name = uniqueName('home-app');
    const expiresOn = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
    const version = await secrets.set(name, 's3cr3t value', {
      contentType: 'text/plain',
      expiresOn,
      tags: { a: 'b' },
    });
    expect(version).toMatch(/^[0-9a-f]{32}$/);
    const got = await secrets.get(name);
    expect(got).toEqual({
      value: 's3cr3t value',
      version,
      contentType: 'text/plain',
      expiresOn,
      updatedOn: expect.any(Date),
    });
  });

  it('returns the latest version after several sets', async () => {
    const name = uniqueName('rotated');
    const v1 = await secrets.set(name, 'first');
    const v2 = await secrets.set(name, 'second');
    expect(v2).not.toBe(v1);
    expect(await secrets.get(name)).toMatchObject({ value: 'second', version: v2 });
  });

  it('answers undefined for a secret that does not exist', async () => {
    expect(await secrets.get(uniqueName('missing'))).toBeUndefined();
  });

  it('deletes, leaving the secret recoverable (purge protection), and the name can be set again at once', async () => {
    const name = uniqueName('offboarded');
    await secrets.set(name, 'tenant credential');
    await secrets.delete(name);
    expect(await secrets.get(name)).toBeUndefined();
    const deleted = await fetch(`${inject('keyVaultUrl')}/deletedsecrets/${name}?api-version=7.6`, {
      headers: {
        authorization: `Bearer ${(await brokerCredential().getToken('https://vault.azure.net/.default'))!.token}`,
      },
    });
    expect(deleted.status).toBe(200);
    await expect(secrets.set(name, 'onboarded again')).resolves.toMatch(/^[0-9a-f]{32}$/);
  });

  it('tolerates deleting a name that does not exist or is deleted already', async () => {
    await expect(secrets.delete(uniqueName('never-there'))).resolves.toBeUndefined();
    const name = uniqueName('leftover');
    await secrets.set(name, 'x');
    const token = (await brokerCredential().getToken('https://vault.azure.net/.default'))!.token;
    const res = await fetch(`${inject('keyVaultUrl')}/secrets/${name}?api-version=7.6`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    await secrets.delete(name);
    await expect(secrets.set(name, 'y')).resolves.toBeTruthy();
  });

  it('maps a refused set to SecretStoreRefused without the value in the message', async () => {
    const outsider = store(controlRouteCredential(inject('sandbox').homeApp.clientId));
    const err = await outsider.set(uniqueName('refused'), 'very-secret-value').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreRefused);
    expect(err).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(String((err as Error).message)).not.toContain('very-secret-value');
    expect((err as Error).cause).toBeUndefined();
  });

  it('maps a bad name to SecretStoreRefused 400 BadParameter', async () => {
    const err = await secrets.set('not_valid', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreRefused);
    expect(err).toMatchObject({ status: 400, code: 'BadParameter' });
  });

  it('maps access denied to SecretStoreRefused 403 AccessDenied', async () => {
    const outsider = store(controlRouteCredential(inject('sandbox').homeApp.clientId));
    const err = await outsider.get(uniqueName('forbidden')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreRefused);
    expect(err).toMatchObject({ status: 403, code: 'AccessDenied' });
  });
});

describe('Key Vault SecretStore under faults (SDK retries first, then SecretStoreUnavailable)', () => {
  it('recovers by itself from a single 503 (the SDK retries)', async () => {
    const name = uniqueName('blip');
    await injectFault({ kind: 'status', status: 503, count: 1, pathContains: name });
    await expect(store().set(name, 'v')).resolves.toMatch(/^[0-9a-f]{32}$/);
  });

  it('reports SecretStoreUnavailable when the vault keeps answering 503', async () => {
    const name = uniqueName('down');
    await injectFault({ kind: 'status', status: 503, count: 20, pathContains: name });
    const err = await store()
      .get(name)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreUnavailable);
    expect((err as SecretStoreUnavailable).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('reports SecretStoreUnavailable with the Retry-After of a 429', async () => {
    const name = uniqueName('throttled');
    await injectFault({ kind: 'throttle', retryAfterSeconds: 1, count: 20, pathContains: name });
    const started = Date.now();
    const err = await store(brokerCredential(), 1)
      .get(name)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreUnavailable);
    expect((err as SecretStoreUnavailable).retryAfterSeconds).toBe(1);
    // The SDK honoured Retry-After once (maxRetries 1) before giving up.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('reports SecretStoreUnavailable when connections are reset', async () => {
    const name = uniqueName('reset');
    await injectFault({ kind: 'reset', count: 20, pathContains: name });
    const err = await store()
      .get(name)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreUnavailable);
  });
});
