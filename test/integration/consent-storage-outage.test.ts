/**
 * Table Storage down during the consent (issue: "an error page, nothing half-written, and the link works
 * again afterwards"). The broker reaches Azurite through a proxy that the test cuts and restores.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let proxy: TcpProxy;
let broker: TestBroker;
let staff: string;

beforeAll(async () => {
  const azurite = inject('tablesConnectionString');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(azurite)![1]);
  proxy = await startTcpProxy(port);
  broker = await startTestBroker({
    BROKER_STORAGE: azurite.replace(`127.0.0.1:${port}`, `127.0.0.1:${proxy.port}`),
  });
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
  await proxy?.close();
});

const api = async (path: string) =>
  (await fetch(`${broker.url}${path}`, { headers: { authorization: `Bearer ${staff}` } })).json() as Promise<
    Record<string, unknown>
  >;

describe('Table Storage down during the consent', () => {
  it('shows a 503 page, records nothing half-way, and the same link works once storage is back', async () => {
    const tenantId = await newTenant('Storage Outage Ltd', ['storageoutage.example']);
    await control('POST', `/_sim/tenants/${tenantId}/users`, {
      userPrincipalName: 'admin@storageoutage.example',
      directoryRoles: ['62e90394-69f5-4237-9190-012177145e10'],
    });
    const created = await fetch(`${broker.url}/api/onboardings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerRef: 'OUTAGE-T', profiles: ['exchange-imap'] }),
    });
    const { id, consentUrl } = (await created.json()) as { id: string; consentUrl: string };

    // Storage goes down while the admin is at Microsoft.
    const browser = new ConsentBrowser(broker.url);
    const consentPage = await browser.open(`${consentUrl}/go`);
    await proxy.cut();
    const page = await browser.submit(consentPage, {
      user: 'admin@storageoutage.example',
      decision: 'approve',
    });
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.body).not.toMatch(/\n\s+at |StorageUnavailable|RestError/);

    await proxy.restore();
    expect(await api(`/api/tenants/${tenantId}`)).toMatchObject({ status: 404 });
    expect(await api(`/api/onboardings/${id}`)).toMatchObject({ status: 'pending', tenantId: null });

    // The same consent link, again: this time it goes through.
    const again = new ConsentBrowser(broker.url);
    const done = await again.submit(await again.open(`${consentUrl}/go`), {
      user: 'admin@storageoutage.example',
      decision: 'approve',
    });
    expect(done.status).toBe(200);
    expect(await api(`/api/tenants/${tenantId}`)).toMatchObject({
      status: 'active',
      customerRefs: ['OUTAGE-T'],
    });
    expect(await api(`/api/onboardings/${id}`)).toMatchObject({ status: 'consented' });
  });
});
