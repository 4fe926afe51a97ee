/** `GET /api/tenants` filters and paging (SPEC.md "Vendor support"), on the wire. @module */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let staff: string;
let a: ConsentedTenant;
let b: ConsentedTenant;
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  a = await consentedTenant(broker.url, staff, 'Filter Alpha', ['exchange-imap']);
  b = await consentedTenant(broker.url, staff, 'Filter Beta', ['exchange-imap']);
});
afterAll(async () => {
  await broker?.close();
});

async function list(query: string) {
  const res = await fetch(`${broker.url}/api/tenants?${query}`, {
    headers: { authorization: `Bearer ${staff}` },
  });
  return {
    status: res.status,
    body: (await res.json()) as { items: { tenantId: string }[]; continuationToken?: string },
  };
}

describe('GET /api/tenants', () => {
  it('filters by customer reference and by verified domain, case-insensitively', async () => {
    expect((await list('customerRef=REF-filteralpha')).body.items.map((t) => t.tenantId)).toEqual([
      a.tenantId,
    ]);
    expect((await list('customerRef=ref-FILTERBETA')).body.items.map((t) => t.tenantId)).toEqual([
      b.tenantId,
    ]);
    expect((await list(`domain=${a.domain.toUpperCase()}`)).body.items.map((t) => t.tenantId)).toEqual([
      a.tenantId,
    ]);
    expect((await list('customerRef=REF-filteralpha&status=active')).body.items).toHaveLength(1);
    expect((await list('customerRef=REF-filteralpha&status=revoked')).body.items).toHaveLength(0);
  });

  it('pages in a stable order with continuation tokens until the last page, which has none', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await list(
        `top=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(1);
      seen.push(...body.items.map((t) => t.tenantId));
      token = body.continuationToken;
      pages++;
    } while (token && pages < 1000);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining([a.tenantId, b.tenantId]));
  });

  it('treats OData in a filter value as a plain value', async () => {
    for (const injection of ["x' or PartitionKey ne '", "' or 1 eq 1 or '", 'REF-filteralpha) or (true']) {
      const { status, body } = await list(`customerRef=${encodeURIComponent(injection)}`);
      expect(status).toBe(200);
      expect(body.items).toEqual([]);
    }
  });

  it.each([
    ['domain=not a domain'],
    ['customerRef='],
    [`customerRef=${'x'.repeat(200)}`],
    ['customerRef=a&domain=b.example'],
    ['continuationToken=%7B%7D'],
    ['status=gone'],
  ])('refuses %s with 400', async (q) => {
    expect((await list(q)).status).toBe(400);
  });
});
