/**
 * The sandbox vault behaves as the deployed one does by default (infra/app/keyvault.bicep: soft delete, 90 days,
 * purge protection), on the wire with raw fetch and through the real `@azure/keyvault-secrets` SDK against the
 * shared simulators: a deleted secret is listed under /deletedsecrets and readable there, a purge answers 403,
 * setting the name again answers 409 ObjectIsDeletedButRecoverable, and a recovery answers 200 at once but
 * completes later (meanwhile 404 on a get and 409 ObjectIsBeingRecovered on a set), as Key Vault does
 * (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview;
 * https://learn.microsoft.com/rest/api/keyvault/secrets/recover-deleted-secret).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { SecretClient } from '@azure/keyvault-secrets';
import { describe, expect, inject, it } from 'vitest';
import type { TokenCredential } from '../../src/adapters/identity.js';
import { brokerVaultToken } from '../helpers/vault-identity.js';

const API = 'api-version=7.6';
const vault = (): string => inject('keyVaultUrl');
const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function kv(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${vault()}${path}?${API}`, {
    method,
    headers: { authorization: `Bearer ${await brokerVaultToken()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const credential: TokenCredential = {
  async getToken() {
    return { token: await brokerVaultToken(), expiresOnTimestamp: Date.now() + 3_000_000 };
  },
};

interface ErrorBody {
  error: { code: string; message: string; innererror?: { code: string } };
}

async function createAndDelete(prefix: string, value: string): Promise<string> {
  const name = uniqueName(prefix);
  expect((await kv('PUT', `/secrets/${name}`, { value })).status).toBe(200);
  expect((await kv('DELETE', `/secrets/${name}`)).status).toBe(200);
  return name;
}

describe('Key Vault simulator as deployed: soft delete with purge protection (the default)', () => {
  it('answers recoveryLevel Recoverable with 90 recoverable days on every secret', async () => {
    const name = uniqueName('protected');
    const res = await kv('PUT', `/secrets/${name}`, { value: 'v' });
    expect(res.status).toBe(200);
    // KnownDeletionRecoveryLevel: "Recoverable" = recoverable, no purge before the retention (90 days) ends.
    expect(((await res.json()) as { attributes: Record<string, unknown> }).attributes).toMatchObject({
      recoverableDays: 90,
      recoveryLevel: 'Recoverable',
    });
  });

  it('lists a deleted secret under /deletedsecrets and serves it from GET /deletedsecrets/{name}', async () => {
    const name = await createAndDelete('listed', 'kept');
    const got = await kv('GET', `/deletedsecrets/${name}`);
    expect(got.status).toBe(200);
    const deleted = (await got.json()) as Record<string, unknown> & { attributes: Record<string, unknown> };
    expect(deleted).toMatchObject({
      recoveryId: `${vault()}/deletedsecrets/${name}`,
      id: expect.stringMatching(new RegExp(`^${vault()}/secrets/${name}/[0-9a-f]{32}$`)),
      deletedDate: expect.any(Number),
      scheduledPurgeDate: expect.any(Number),
    });
    expect(deleted.value).toBeUndefined();
    expect(deleted.attributes.recoveryLevel).toBe('Recoverable');

    const client = new SecretClient(vault(), credential, { disableChallengeResourceVerification: true });
    const names: string[] = [];
    for await (const d of client.listDeletedSecrets()) names.push(d.name);
    expect(names).toContain(name);
  });

  it('refuses a purge with 403 Forbidden while the retention lasts, and keeps the secret recoverable', async () => {
    const name = await createAndDelete('unpurgeable', 'v');
    const purge = await kv('DELETE', `/deletedsecrets/${name}`);
    expect(purge.status).toBe(403);
    expect(await purge.json()).toEqual({
      error: {
        code: 'Forbidden',
        message:
          'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.\r\nVault: consent-broker-vault;location=sandbox',
      },
    });
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(200);
  });

  it('answers 409 ObjectIsDeletedButRecoverable to a set of the deleted name', async () => {
    const name = await createAndDelete('reused', 'v');
    const conflict = await kv('PUT', `/secrets/${name}`, { value: 'again' });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as ErrorBody).error).toMatchObject({
      code: 'Conflict',
      innererror: { code: 'ObjectIsDeletedButRecoverable' },
    });
  });

  it('recovers asynchronously: 200 at once, then 404 and 409 ObjectIsBeingRecovered until it is done', async () => {
    const name = await createAndDelete('recovering', 'old value');
    const recover = await kv('POST', `/deletedsecrets/${name}/recover`);
    expect(recover.status).toBe(200);
    const bundle = (await recover.json()) as Record<string, unknown>;
    expect(bundle.id).toMatch(new RegExp(`^${vault()}/secrets/${name}/[0-9a-f]{32}$`));
    expect(bundle.value).toBeUndefined();

    // In progress: neither live nor deleted.
    expect((await kv('GET', `/secrets/${name}/`)).status).toBe(404);
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(404);
    const busy = await kv('PUT', `/secrets/${name}`, { value: 'too early' });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({
      error: {
        code: 'Conflict',
        message: `Secret ${name} is currently being recovered and cannot be re-created; retry later.`,
        innererror: { code: 'ObjectIsBeingRecovered' },
      },
    });
    const again = await kv('POST', `/deletedsecrets/${name}/recover`);
    expect(again.status).toBe(409);

    await expect
      .poll(async () => (await kv('GET', `/secrets/${name}/`)).status, { timeout: 5_000, interval: 50 })
      .toBe(200);
    expect(((await (await kv('GET', `/secrets/${name}/`)).json()) as { value: string }).value).toBe(
      'old value',
    );
    expect((await kv('PUT', `/secrets/${name}`, { value: 'new value' })).status).toBe(200);
  });

  it("completes the SDK's beginRecoverDeletedSecret poller only once the secret is live again", async () => {
    const name = await createAndDelete('sdk-recover', 'from before');
    const client = new SecretClient(vault(), credential, { disableChallengeResourceVerification: true });
    const poller = await client.beginRecoverDeletedSecret(name, { intervalInMs: 25 });
    const recovered = await poller.pollUntilDone();
    expect(recovered.name).toBe(name);
    expect((await client.getSecret(name)).value).toBe('from before');
  });
});
