/** "Bring your own app" (SPEC.md `PUT|DELETE /api/tenants/{tenantId}/app-credential`), on the wire. @module */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let staff: string;
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
};

/** A customer tenant with its own app registration (the OpenScape / Sinch model), consented in that tenant. */
async function customerWithOwnApp() {
  const tenantId = await newTenant('Own App AG', ['ownapp.example']);
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: tenantId,
    displayName: 'PBX mail access (own app)',
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp', 'SMTP.SendAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
    },
  });
  const secret = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  return { tenantId, appId: app.appId, secret: secret.value };
}

const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();

describe('bring your own app', () => {
  it("uses the customer's own app for the tenant from now on, and never returns its secret", async () => {
    const c = await customerWithOwnApp();
    const put = await api('PUT', `/api/tenants/${c.tenantId}/app-credential`, {
      clientId: c.appId,
      clientSecret: c.secret,
      expiresOn: inAYear(),
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      tenantId: c.tenantId,
      status: 'degraded',
      displayName: 'Own App AG',
      appCredential: { clientId: c.appId, expiresOn: expect.any(String) },
    });
    expect(put.text).not.toContain(c.secret);

    const pbx = (
      await api('POST', '/api/appliances', {
        customerRef: 'OWN-1',
        tenantId: c.tenantId,
        profiles: ['exchange-imap'],
        auth: { method: 'client_secret' },
      })
    ).body as { clientId: string; clientSecret: string };
    const res = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${pbx.clientId}:${pbx.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(decodeJwt(access_token)).toMatchObject({
      appid: c.appId,
      tid: c.tenantId,
      roles: expect.arrayContaining(['IMAP.AccessAsApp']),
    });

    const view = await api('GET', `/api/tenants/${c.tenantId}`);
    expect(view.text).not.toContain(c.secret);

    // Back to the home app, which this tenant never consented to: the tenant is revoked, tokens refused.
    const del = await api('DELETE', `/api/tenants/${c.tenantId}/app-credential`);
    expect(del.body).toMatchObject({ status: 'revoked', appCredential: null });
  });

  it.each([
    [
      'a past expiresOn',
      (c: { appId: string; secret: string }) => ({
        clientId: c.appId,
        clientSecret: c.secret,
        expiresOn: '2020-01-01T00:00:00Z',
      }),
      'past',
    ],
    [
      'both a secret and a certificate',
      (c: { appId: string; secret: string }) => ({
        clientId: c.appId,
        clientSecret: c.secret,
        certificate: 'x',
        expiresOn: inAYear(),
      }),
      'exactly one',
    ],
    [
      'a malformed PEM',
      (c: { appId: string }) => ({
        clientId: c.appId,
        certificate: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----',
        expiresOn: inAYear(),
      }),
      'PKCS#8',
    ],
    [
      'a non-GUID client id',
      (c: { secret: string }) => ({ clientId: 'my-app', clientSecret: c.secret, expiresOn: inAYear() }),
      'GUID',
    ],
    [
      'an unknown field',
      (c: { appId: string; secret: string }) => ({
        clientId: c.appId,
        clientSecret: c.secret,
        expiresOn: inAYear(),
        tenant: 'x',
      }),
      'Unknown field',
    ],
  ])('refuses %s with 400 and changes nothing', async (_, body, message) => {
    const c = await customerWithOwnApp();
    const res = await api('PUT', `/api/tenants/${c.tenantId}/app-credential`, body(c));
    expect(res.status).toBe(400);
    expect(String(res.body?.detail)).toContain(message);
    expect(res.text).not.toContain(c.secret);
    expect((await api('GET', `/api/tenants/${c.tenantId}`)).status).toBe(404);
  });

  it('needs Broker.Admin', async () => {
    const reader = await broker.staffToken({ user: 'support.agent@northwind-telephony.example' });
    const res = await api(
      'PUT',
      '/api/tenants/11111111-2222-3333-4444-555555555555/app-credential',
      {},
      { authorization: `Bearer ${reader}` },
    );
    expect(res.status).toBe(403);
  });
});

describe('an offboarded tenant (docs/security.md E8)', () => {
  it('refuses PUT and DELETE of the app credential with 409 and leaves the tenant offboarded', async () => {
    const c = await customerWithOwnApp();
    const body = { clientId: c.appId, clientSecret: c.secret, expiresOn: inAYear() };
    expect((await api('PUT', `/api/tenants/${c.tenantId}/app-credential`, body)).status).toBe(200);
    expect((await api('DELETE', `/api/tenants/${c.tenantId}`)).body).toMatchObject({ status: 'offboarded' });

    const put = await api('PUT', `/api/tenants/${c.tenantId}/app-credential`, body);
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ type: 'about:blank', status: 409 });
    expect(String(put.body?.detail)).toContain('offboarded');
    expect(put.text).not.toContain(c.secret);
    const del = await api('DELETE', `/api/tenants/${c.tenantId}/app-credential`);
    expect(del.status).toBe(409);
    expect((await api('GET', `/api/tenants/${c.tenantId}`)).body).toMatchObject({ status: 'offboarded' });
  });
});
