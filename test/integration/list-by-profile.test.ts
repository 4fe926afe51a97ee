/**
 * Support lists the tenants and appliances that still use a profile (`GET /api/tenants?profile=…`,
 * `GET /api/appliances?profile=…`), e.g. `exchange-ews` before EWS ends in Exchange Online on 1 April 2027
 * (https://techcommunity.microsoft.com/blog/exchange/exchange-online-ews-your-time-is-almost-up/4492361),
 * combinable with the other filters; an unknown profile name is a 400 naming the known ones.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let staff: string;
let ews: ConsentedTenant;
let imapOnly: ConsentedTenant;
const appliances: Record<string, string> = {};

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Every item of every page, following continuation tokens. */
async function all(path: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(
      `${path}${sep}top=2${next ? `&continuationToken=${encodeURIComponent(next)}` : ''}`,
    );
    expect(page.status).toBe(200);
    items.push(...(page.body.items as Record<string, unknown>[]));
    next = page.body.continuationToken as string | undefined;
  } while (next);
  return items;
}

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  ews = await consentedTenant(broker.url, staff, 'Legacy EWS Corp', ['exchange-ews', 'exchange-imap']);
  imapOnly = await consentedTenant(broker.url, staff, 'Modern IMAP Corp', ['exchange-imap']);
  for (const [name, tenant, profiles] of [
    ['ews', ews, ['exchange-ews']],
    ['imap', ews, ['exchange-imap']],
    ['other', imapOnly, ['exchange-imap']],
  ] as const) {
    const res = await api('/api/appliances', {
      method: 'POST',
      body: JSON.stringify({
        customerRef: `PBX-${name}`,
        tenantId: tenant.tenantId,
        profiles,
        auth: { method: 'client_secret' },
      }),
    });
    appliances[name] = String(res.body.clientId);
  }
});
afterAll(async () => {
  await broker?.close();
});

describe('listing by profile', () => {
  it('finds the tenants whose consent names the profile, across pages', async () => {
    const ids = (await all('/api/tenants?profile=exchange-ews')).map((t) => t.tenantId);
    expect(ids).toContain(ews.tenantId);
    expect(ids).not.toContain(imapOnly.tenantId);
    const both = (await all('/api/tenants?profile=exchange-imap')).map((t) => t.tenantId);
    expect(both).toEqual(expect.arrayContaining([ews.tenantId, imapOnly.tenantId]));
    const byDomain = await all(`/api/tenants?profile=exchange-ews&domain=${imapOnly.domain}`);
    expect(byDomain).toEqual([]);
  });

  it('finds the appliances allowed the profile, with the tenant filter too', async () => {
    const ids = (await all('/api/appliances?profile=exchange-ews')).map((a) => a.clientId);
    expect(ids).toContain(appliances.ews);
    expect(ids).not.toContain(appliances.imap);
    expect(ids).not.toContain(appliances.other);
    const inTenant = (await all(`/api/appliances?profile=exchange-imap&tenantId=${ews.tenantId}`)).map(
      (a) => a.clientId,
    );
    expect(inTenant).toEqual([appliances.imap]);
  });

  it.each(['/api/tenants', '/api/appliances'])(
    '%s refuses an unknown profile, naming the known ones',
    async (path) => {
      const unknown = await api(`${path}?profile=exchange-fax`);
      expect(unknown.status).toBe(400);
      expect(String(unknown.body.detail)).toMatch(/Unknown profile "exchange-fax"; known: exchange-imap, /);
      const malformed = await api(`${path}?profile=Not%20A%20Name`);
      expect(malformed.status).toBe(400);
      expect(String(malformed.body.detail)).toContain('profile must be a profile name');
    },
  );
});
