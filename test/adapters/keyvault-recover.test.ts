/**
 * The Key Vault `SecretStore` when a name comes back after a delete, on the sandbox vault as deployed (soft
 * delete + purge protection, the simulator's default), with the real `@azure/keyvault-secrets` SDK over real
 * sockets: a delete leaves the secret recoverable (no purge is possible), and a set of that name recovers it,
 * waits for the asynchronous recovery, and stores the new value as its latest version, instead of failing with
 * 409 ObjectIsDeletedButRecoverable (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createKeyVaultSecretStore } from '../../src/adapters/keyvault/keyvault-secrets.js';
import { SecretStoreRefused, type SecretStore } from '../../src/adapters/keyvault/port.js';
import { brokerVaultCredential, brokerVaultToken } from '../helpers/vault-identity.js';

const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

function store(): SecretStore {
  return createKeyVaultSecretStore({
    vaultUrl: inject('keyVaultUrl'),
    credential: brokerVaultCredential,
    retry: { maxRetries: 0 },
    deletePollIntervalMs: 20,
    recoverPollIntervalMs: 25,
    operationTimeoutMs: 10_000,
  });
}

async function kv(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${inject('keyVaultUrl')}${path}?api-version=7.6`, {
    method,
    headers: { authorization: `Bearer ${await brokerVaultToken()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('Key Vault SecretStore on a vault with purge protection', () => {
  it('deletes without purging: the secret stays recoverable and reads as absent', async () => {
    const secrets = store();
    const name = uniqueName('removed');
    await secrets.set(name, 'v');
    await secrets.delete(name);
    expect(await secrets.get(name)).toBeUndefined();
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(200);
    // Deleting again (a retried offboarding) is still not an error.
    await expect(secrets.delete(name)).resolves.toBeUndefined();
  });

  it('sets a deleted name again: recovers it, then stores the new value as the latest version', async () => {
    const secrets = store();
    const name = uniqueName('comes-back');
    const first = await secrets.set(name, 'first life', { contentType: 'application/json' });
    await secrets.delete(name);

    const version = await secrets.set(name, 'second life', { contentType: 'application/json' });
    expect(version).toMatch(/^[0-9a-f]{32}$/);
    expect(version).not.toBe(first);
    expect(await secrets.get(name)).toMatchObject({
      value: 'second life',
      version,
      contentType: 'application/json',
    });
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(404);
    // The recovered versions are kept under the new one, as Key Vault keeps them.
    const versions = (await (await kv('GET', `/secrets/${name}/versions`)).json()) as { value: unknown[] };
    expect(versions.value).toHaveLength(2);
  });

  it('sets a name whose recovery another instance has started, once that recovery is done', async () => {
    const secrets = store();
    const name = uniqueName('raced');
    await secrets.set(name, 'x');
    await secrets.delete(name);
    expect((await kv('POST', `/deletedsecrets/${name}/recover`)).status).toBe(200);
    await expect(secrets.set(name, 'y')).resolves.toMatch(/^[0-9a-f]{32}$/);
    expect((await secrets.get(name))?.value).toBe('y');
  });

  it('lets two instances set the same deleted name at once: both succeed, one value wins', async () => {
    const name = uniqueName('both');
    await store().set(name, 'x');
    await store().delete(name);
    const [a, b] = await Promise.all([store().set(name, 'from a'), store().set(name, 'from b')]);
    expect(a).not.toBe(b);
    expect(['from a', 'from b']).toContain((await store().get(name))?.value);
  });

  it('gets a deleted secret back only when asked to recover it (recoverDeleted)', async () => {
    const secrets = store();
    const name = uniqueName('key-like');
    const version = await secrets.set(name, 'keep me');
    await secrets.delete(name);
    expect(await secrets.get(name)).toBeUndefined();
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(200);

    expect(await secrets.get(name, { recoverDeleted: true })).toMatchObject({ value: 'keep me', version });
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(404);
    expect(await secrets.get(uniqueName('never-set'), { recoverDeleted: true })).toBeUndefined();
  });

  it('still refuses what recovery cannot fix, e.g. a bad name (400 BadParameter)', async () => {
    const err = await store()
      .set('not_valid', 'x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreRefused);
    expect(err).toMatchObject({ status: 400, code: 'BadParameter' });
  });
});
