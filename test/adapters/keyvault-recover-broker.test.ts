/**
 * The broker on a real port, on the sandbox vault as deployed (soft delete + purge protection, the Key Vault
 * simulator's default), where a tenant's "bring your own app" secret name `tenant-app-{tenantId}` comes back
 * after a delete: a credential set again after `DELETE …/app-credential`, and a tenant onboarded again after
 * offboarding. The deleted secret cannot be purged, so without recovery the second set meets 409
 * ObjectIsDeletedButRecoverable for up to 90 days.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant } from '../helpers/consented-tenant.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { brokerVaultToken } from '../helpers/vault-identity.js';

let broker: TestBroker;
let staff: string;
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
};

const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();

/** An app registration of the customer's own in `tenantId`, with a fresh client secret. */
async function ownApp(tenantId: string): Promise<{ appId: string; secret: () => Promise<string> }> {
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: tenantId,
    displayName: 'PBX mail access (own app)',
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
    },
  });
  return {
    appId: app.appId,
    secret: async () =>
      (await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {})).value,
  };
}

/** The vault's current value and state of a name, read as the broker's identity. */
async function vaultState(name: string): Promise<{ live?: string; deleted: boolean }> {
  const access_token = await brokerVaultToken();
  const get = (path: string) =>
    fetch(`${inject('keyVaultUrl')}${path}?api-version=7.6`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
  const live = await get(`/secrets/${name}/`);
  const deleted = await get(`/deletedsecrets/${name}`);
  return {
    ...(live.status === 200 ? { live: ((await live.json()) as { value: string }).value } : {}),
    deleted: deleted.status === 200,
  };
}

describe('a tenant app credential whose name comes back, on a vault with purge protection', () => {
  it('is set again after DELETE /api/tenants/{id}/app-credential (the deleted secret is recovered first)', async () => {
    const tenantId = await newTenant('Twice Own App GmbH', ['twiceownapp.example']);
    const app = await ownApp(tenantId);
    const path = `/api/tenants/${tenantId}/app-credential`;
    const name = `tenant-app-${tenantId}`;

    const first = await api('PUT', path, {
      clientId: app.appId,
      clientSecret: await app.secret(),
      expiresOn: inAYear(),
    });
    expect(first.status).toBe(200);
    expect((await api('DELETE', path)).body).toMatchObject({ appCredential: null });
    expect(await vaultState(name)).toEqual({ deleted: true });

    const secret = await app.secret();
    const again = await api('PUT', path, { clientId: app.appId, clientSecret: secret, expiresOn: inAYear() });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ tenantId, appCredential: { clientId: app.appId } });
    expect(again.text).not.toContain(secret);
    const state = await vaultState(name);
    expect(state.deleted).toBe(false);
    expect(JSON.parse(state.live!)).toMatchObject({
      clientId: app.appId,
      credential: { kind: 'secret', secret },
    });
  });

  it('is set again for a tenant onboarded again after offboarding', async () => {
    const t = await consentedTenant(broker.url, staff, 'Returning Customer', ['exchange-imap']);
    const app = await ownApp(t.tenantId);
    const path = `/api/tenants/${t.tenantId}/app-credential`;
    const name = `tenant-app-${t.tenantId}`;
    const put = async (secret: string) =>
      api('PUT', path, { clientId: app.appId, clientSecret: secret, expiresOn: inAYear() });

    expect((await put(await app.secret())).status).toBe(200);
    const off = await api('DELETE', `/api/tenants/${t.tenantId}`);
    expect(off).toMatchObject({ status: 200, body: { status: 'offboarded' } });
    expect(await vaultState(name)).toEqual({ deleted: true });

    // The customer's admin consents again (a new onboarding), then support sets the tenant's own app again.
    const onboarding = (
      await api('POST', '/api/onboardings', { customerRef: 'RETURNING-2', profiles: ['exchange-imap'] })
    ).body as { consentUrl: string };
    const browser = new ConsentBrowser(broker.url);
    const page = await browser.submit(await browser.open(`${onboarding.consentUrl}/go`), {
      user: `admin@${t.domain}`,
      decision: 'approve',
    });
    expect(page.status).toBe(200);
    expect((await api('GET', `/api/tenants/${t.tenantId}`)).body).toMatchObject({ status: 'active' });

    const secret = await app.secret();
    const again = await put(secret);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ tenantId: t.tenantId, appCredential: { clientId: app.appId } });
    const state = await vaultState(name);
    expect(state.deleted).toBe(false);
    expect(JSON.parse(state.live!)).toMatchObject({ credential: { secret } });
  });
});
