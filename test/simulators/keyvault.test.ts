/**
 * The Key Vault simulator on the wire, with raw fetch against the shared simulators: challenge
 * authentication, api-version, versions, paging, disabled secrets, soft delete / recover / purge, the 409 on a
 * deleted name, name and size limits, and access policies (FACTS.md §8).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';

const API = 'api-version=7.6';
const vault = (): string => inject('keyVaultUrl');
const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function appToken(
  appId: string,
  tenant: string,
  resource = 'https://vault.azure.net',
): Promise<string> {
  const res = await fetch(`${inject('controlUrl')}/_sim/tokens/app`, {
    method: 'POST',
    body: JSON.stringify({ tenant, appId, resource }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The broker's identity (allowed by the sandbox vault's access policy). */
const brokerToken = (): Promise<string> =>
  appToken(inject('sandbox').brokerIdentity.clientId, inject('sandbox').vendorTenantId);

async function kv(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; query?: string } = {},
): Promise<Response> {
  const token = options.token ?? (await brokerToken());
  const query = options.query ?? API;
  return fetch(`${vault()}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

interface Bundle {
  value?: string;
  id: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: Record<string, unknown>;
  recoveryId?: string;
  deletedDate?: number;
  scheduledPurgeDate?: number;
}
interface Page {
  value: Bundle[];
  nextLink: string | null;
}

describe('Key Vault simulator: challenge authentication (FACTS.md §8.3)', () => {
  it('answers a request without a token with 401 and the Bearer challenge naming the vault tenant', async () => {
    const res = await fetch(`${vault()}/secrets/anything?${API}`, { method: 'PUT' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer authorization="${inject('entraUrl')}/${inject('sandbox').vendorTenantId}", resource="https://vault.azure.net"`,
    );
    expect(await res.json()).toEqual({
      error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
    });
  });

  it('refuses a token that is not signed by Entra with 401 and the challenge', async () => {
    const res = await kv('GET', '/secrets', { token: 'eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource="https://vault.azure.net"');
  });

  it('refuses a token for another resource (AKV10022)', async () => {
    const sandbox = inject('sandbox');
    const token = await appToken(
      sandbox.brokerIdentity.clientId,
      sandbox.vendorTenantId,
      'https://graph.microsoft.com',
    );
    const res = await kv('GET', '/secrets', { token });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^AKV10022: Invalid audience/,
    );
  });

  it('refuses a token issued by another tenant (AKV10032)', async () => {
    const sandbox = inject('sandbox');
    const consent = await fetch(
      `${inject('controlUrl')}/_sim/tenants/${sandbox.customers.fabrikam}/consents`,
      {
        method: 'POST',
        body: JSON.stringify({ appId: sandbox.brokerIdentity.clientId, roles: {} }),
      },
    );
    expect(consent.status).toBe(201);
    const token = await appToken(sandbox.brokerIdentity.clientId, sandbox.customers.fabrikam);
    const res = await kv('GET', '/secrets', { token });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^AKV10032: Invalid issuer/,
    );
  });

  it('answers 403 Forbidden (AccessDenied) to a caller the access policy does not name', async () => {
    const sandbox = inject('sandbox');
    const token = await appToken(sandbox.homeApp.clientId, sandbox.vendorTenantId);
    const res = await kv('GET', '/secrets/anything/', { token });
    expect(res.status).toBe(403);
    const body = (await res.json()) as {
      error: { code: string; message: string; innererror: { code: string } };
    };
    expect(body.error.code).toBe('Forbidden');
    expect(body.error.innererror).toEqual({ code: 'AccessDenied' });
    expect(body.error.message).toContain(`appid=${sandbox.homeApp.clientId}`);
    expect(body.error.message).toContain('does not have secrets get permission on key vault');
  });
});

describe('Key Vault simulator: api-version (KV-AUTH: "there is no default")', () => {
  it('refuses a request without api-version with 400 BadParameter', async () => {
    const res = await kv('GET', '/secrets', { query: '' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BadParameter');
  });

  it('refuses an unknown api-version with 400 BadParameter', async () => {
    const res = await kv('GET', '/secrets', { query: 'api-version=9.9' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: 'BadParameter',
        message:
          'The specified version (9.9) is not recognized. Consider using the latest supported version (2026-04-01).',
      },
    });
  });
});

describe('Key Vault simulator: secrets and versions (FACTS.md §8.1, §8.2)', () => {
  it('creates a new version on every set and gets the latest or a given version', async () => {
    const name = uniqueName('versions');
    const r1 = await kv('PUT', `/secrets/${name}`, {
      body: { value: 'one', contentType: 'text/plain', tags: { purpose: 'test' } },
    });
    expect(r1.status).toBe(200);
    const b1 = (await r1.json()) as Bundle;
    expect(b1).toEqual({
      value: 'one',
      contentType: 'text/plain',
      tags: { purpose: 'test' },
      id: expect.stringMatching(new RegExp(`^${vault()}/secrets/${name}/[0-9a-f]{32}$`)),
      attributes: {
        enabled: true,
        created: expect.any(Number),
        updated: expect.any(Number),
        recoverableDays: 90,
        // Purge protection, as deployed (infra/app/keyvault.bicep): recoverable, never purgeable early.
        recoveryLevel: 'Recoverable',
      },
    });
    const b2 = (await (await kv('PUT', `/secrets/${name}`, { body: { value: 'two' } })).json()) as Bundle;
    expect(b2.id).not.toBe(b1.id);

    const latest = await kv('GET', `/secrets/${name}/`);
    expect(latest.status).toBe(200);
    expect(((await latest.json()) as Bundle).value).toBe('two');
    const first = (await (await kv('GET', `/secrets/${name}/${b1.id.split('/').at(-1)}`)).json()) as Bundle;
    expect(first.value).toBe('one');

    const missing = await kv('GET', `/secrets/${name}/${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SecretNotFound');
  });

  it('lists versions page by page with nextLink and maxresults, without values', async () => {
    const name = uniqueName('paging');
    const ids = new Set<string>();
    for (const value of ['a', 'b', 'c']) {
      ids.add(((await (await kv('PUT', `/secrets/${name}`, { body: { value } })).json()) as Bundle).id);
    }
    const token = await brokerToken();
    const seen: string[] = [];
    let url: string | null = `${vault()}/secrets/${name}/versions?${API}&maxresults=2`;
    let pages = 0;
    while (url) {
      const res: Response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Page;
      for (const item of body.value) {
        expect(item.value).toBeUndefined();
        seen.push(item.id);
      }
      url = body.nextLink;
      if (url) expect(url).toMatch(/[?&]api-version=7\.6&\$skiptoken=[^&]+&maxresults=2$/);
      pages += 1;
    }
    expect(pages).toBe(2);
    expect(new Set(seen)).toEqual(ids);
  });

  it('lists secrets by their base id with the current version attributes', async () => {
    const name = uniqueName('listed');
    await kv('PUT', `/secrets/${name}`, { body: { value: 'x', contentType: 'text/plain' } });
    const token = await brokerToken();
    const items: Bundle[] = [];
    let url: string | null = `${vault()}/secrets?${API}`;
    while (url) {
      const body = (await (
        await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as Page;
      items.push(...body.value);
      url = body.nextLink;
    }
    const item = items.find((i) => i.id === `${vault()}/secrets/${name}`);
    expect(item).toMatchObject({ contentType: 'text/plain', attributes: { enabled: true } });
    expect(item?.value).toBeUndefined();
  });

  it('updates properties with PATCH and refuses to get a disabled secret (403 SecretDisabled)', async () => {
    const name = uniqueName('disabled');
    const set = (await (await kv('PUT', `/secrets/${name}`, { body: { value: 'v' } })).json()) as Bundle;
    const version = set.id.split('/').at(-1)!;
    const patch = await kv('PATCH', `/secrets/${name}/${version}`, {
      body: { attributes: { enabled: false }, tags: { state: 'off' } },
    });
    expect(patch.status).toBe(200);
    const patched = (await patch.json()) as Bundle;
    expect(patched.value).toBeUndefined();
    expect(patched).toMatchObject({ tags: { state: 'off' }, attributes: { enabled: false } });

    const get = await kv('GET', `/secrets/${name}/`);
    expect(get.status).toBe(403);
    expect(await get.json()).toEqual({
      error: {
        code: 'Forbidden',
        message: 'Operation get is not allowed on a disabled secret.',
        innererror: { code: 'SecretDisabled' },
      },
    });
    await kv('PATCH', `/secrets/${name}/${version}`, { body: { attributes: { enabled: true } } });
    expect((await kv('GET', `/secrets/${name}/`)).status).toBe(200);
  });

  it('still gets a secret outside its nbf/exp window (about-secrets.md: date-time controlled operations)', async () => {
    const name = uniqueName('expired');
    const exp = Math.floor(Date.now() / 1000) - 60;
    await kv('PUT', `/secrets/${name}`, { body: { value: 'old', attributes: { exp } } });
    const res = await kv('GET', `/secrets/${name}/`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Bundle).attributes.exp).toBe(exp);
  });
});

describe('Key Vault simulator: soft delete, recover, purge', () => {
  it('soft-deletes, refuses the name with 409, recovers, deletes again and refuses the purge (403)', async () => {
    const name = uniqueName('lifecycle');
    await kv('PUT', `/secrets/${name}`, { body: { value: 'keep-me' } });

    const del = await kv('DELETE', `/secrets/${name}`);
    expect(del.status).toBe(200);
    const deleted = (await del.json()) as Bundle;
    expect(deleted.value).toBeUndefined();
    expect(deleted.recoveryId).toBe(`${vault()}/deletedsecrets/${name}`);
    expect(deleted.scheduledPurgeDate! - deleted.deletedDate!).toBe(90 * 86_400);
    expect(deleted.attributes).toMatchObject({ recoveryLevel: 'Recoverable', recoverableDays: 90 });

    expect((await kv('GET', `/secrets/${name}/`)).status).toBe(404);
    const conflict = await kv('PUT', `/secrets/${name}`, { body: { value: 'again' } });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({
      error: {
        code: 'Conflict',
        message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        innererror: { code: 'ObjectIsDeletedButRecoverable' },
      },
    });

    const got = await kv('GET', `/deletedsecrets/${name}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as Bundle).recoveryId).toBe(deleted.recoveryId);
    const list = (await (
      await kv('GET', '/deletedsecrets', { query: `${API}&maxresults=25` })
    ).json()) as Page;
    expect(list.value.length).toBeGreaterThan(0);

    const recover = await kv('POST', `/deletedsecrets/${name}/recover`);
    expect(recover.status).toBe(200);
    // The recovery completes asynchronously (test/simulators/keyvault-purge-protection.test.ts).
    await expect
      .poll(async () => (await kv('GET', `/secrets/${name}/`)).status, { timeout: 5_000, interval: 50 })
      .toBe(200);
    expect(((await (await kv('GET', `/secrets/${name}/`)).json()) as Bundle).value).toBe('keep-me');

    expect((await kv('DELETE', `/secrets/${name}`)).status).toBe(200);
    // Purge protection: the purge is refused, the secret stays recoverable (purge itself: keyvault-settings.test.ts).
    const purge = await kv('DELETE', `/deletedsecrets/${name}`);
    expect(purge.status).toBe(403);
    expect((await kv('GET', `/deletedsecrets/${name}`)).status).toBe(200);
    const gone = await kv('GET', `/deletedsecrets/${uniqueName('never-deleted')}`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'SecretNotFound',
      message: expect.stringMatching(/^Deleted Secret not found: never-deleted-/),
    });
  });

  it('answers 404 SecretNotFound when deleting a secret that does not exist', async () => {
    const res = await kv('DELETE', `/secrets/${uniqueName('never')}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SecretNotFound');
  });
});

describe('Key Vault simulator: validation', () => {
  it.each(['bad_name', 'a'.repeat(128), 'dots.not.allowed'])(
    'refuses the name %s with 400 BadParameter',
    async (name) => {
      const res = await kv('PUT', `/secrets/${name}`, { body: { value: 'v' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: 'BadParameter', message: `The request URI contains an invalid name: ${name}` },
      });
    },
  );

  it('accepts a 127-character name and a 25 KiB value, refuses one byte more', async () => {
    const name = `n${randomBytes(63).toString('hex')}`;
    expect(name).toHaveLength(127);
    expect((await kv('PUT', `/secrets/${name}`, { body: { value: 'x'.repeat(25 * 1024) } })).status).toBe(
      200,
    );
    const big = await kv('PUT', `/secrets/${name}`, { body: { value: 'x'.repeat(25 * 1024 + 1) } });
    expect(big.status).toBe(400);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('BadParameter');
  });

  it('refuses a set without a value, and an unknown route gets Key Vault’s error body', async () => {
    expect((await kv('PUT', `/secrets/${uniqueName('novalue')}`, { body: {} })).status).toBe(400);
    const res = await kv('GET', '/keys/a/b/c/d');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NotFound', message: expect.any(String) } });
  });
});
