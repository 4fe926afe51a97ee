/** `DELETE /api/tenants/{tenantId}`: offboarding, and onboarding the same tenant again (SPEC.md). @module */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant } from '../helpers/consented-tenant.js';
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

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>),
  };
};

describe('offboarding', () => {
  it('revokes the appliances, keeps a tombstone, audits it, and the tenant can consent again later', async () => {
    const t = await consentedTenant(broker.url, staff, 'Leaving Soon', ['exchange-imap']);
    const pbx = (
      await api('POST', '/api/appliances', {
        customerRef: 'LEAVE-1',
        tenantId: t.tenantId,
        profiles: ['exchange-imap'],
        auth: { method: 'client_secret' },
      })
    ).body as {
      clientId: string;
      clientSecret: string;
    };
    const tokenRequest = () =>
      fetch(`${broker.url}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${pbx.clientId}:${pbx.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
      });
    expect((await tokenRequest()).status).toBe(200);

    const off = await api('DELETE', `/api/tenants/${t.tenantId}`);
    expect(off).toMatchObject({ status: 200, body: { tenantId: t.tenantId, status: 'offboarded' } });
    expect((await tokenRequest()).status).toBe(401);
    expect((await api('GET', `/api/appliances/${pbx.clientId}`)).body).toMatchObject({ status: 'revoked' });
    expect((await api('GET', `/api/tenants/${t.tenantId}`)).body).toMatchObject({
      status: 'offboarded',
      customerRefs: ['REF-leavingsoon'],
    });
    const audit = (await api('GET', `/api/audit?tenantId=${t.tenantId}&top=1000`)).body as {
      items: { action: string; details: Record<string, unknown> }[];
    };
    expect(audit.items).toContainEqual(
      expect.objectContaining({
        action: 'tenant.offboarded',
        details: expect.objectContaining({ appliancesRevoked: 1 }),
      }),
    );
    // Offboarding twice is harmless.
    expect((await api('DELETE', `/api/tenants/${t.tenantId}`)).status).toBe(200);

    // Onboarding again later works.
    const again = (
      await api('POST', '/api/onboardings', { customerRef: 'BACK-AGAIN', profiles: ['exchange-imap'] })
    ).body as { consentUrl: string };
    const browser = new ConsentBrowser(broker.url);
    const page = await browser.submit(await browser.open(`${again.consentUrl}/go`), {
      user: `admin@${t.domain}`,
      decision: 'approve',
    });
    expect(page.status).toBe(200);
    expect((await api('GET', `/api/tenants/${t.tenantId}`)).body).toMatchObject({
      status: 'active',
      customerRefs: ['REF-leavingsoon', 'BACK-AGAIN'],
    });
  });

  it('needs Broker.Admin, a GUID and a known tenant', async () => {
    const reader = await broker.staffToken({ user: 'support.agent@northwind-telephony.example' });
    const res = await fetch(`${broker.url}/api/tenants/11111111-2222-3333-4444-555555555555`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(res.status).toBe(403);
    expect((await api('DELETE', '/api/tenants/nope')).status).toBe(400);
    expect((await api('DELETE', '/api/tenants/11111111-2222-3333-4444-555555555555')).status).toBe(404);
  });
});
