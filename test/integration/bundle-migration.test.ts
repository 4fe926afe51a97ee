/**
 * Tenants recorded before bundles (src/tenants/tenant-store.ts `grantsOf`): their row has the home app's grants
 * at its top level and no `apps`. They keep vending as they did, and their next proof (a re-check) writes what
 * the home app was granted under its client id, the migration of their record.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { applyProof } from '../../src/tenants/consent-watch.js';
import { basicAuth } from '../helpers/appliances.js';
import { consentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const EXCHANGE = 'https://outlook.office365.com/.default';
let broker: TestBroker;
let staff: string;
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

describe('a tenant recorded before bundles', () => {
  it('keeps getting tokens from its legacy record, and its next proof records the home app’s grants by client id', async () => {
    const { tenantId } = await consentedTenant(broker.url, staff, 'Legacy Record', ['exchange-imap']);
    const b = await broker.instance();
    const home = inject('sandbox').homeApp.clientId;
    const table = b.tables.table('tenants');
    const fresh = (await table.get('tenant', tenantId))!;
    expect(JSON.parse(fresh.apps as string)).toMatchObject({
      [home]: { grantedRoles: { [EXCHANGE]: expect.arrayContaining(['IMAP.AccessAsApp']) } },
    });
    // The row as a broker before bundles wrote it: no `apps` column.
    const { etag: _etag, apps: _apps, ...legacy } = fresh;
    await table.upsert(legacy);
    b.directory.invalidate('tenant', tenantId);
    const before = (await b.tenants.get(tenantId))!;
    expect(before.apps).toBeUndefined();

    const created = await fetch(`${broker.url}/api/appliances`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        customerRef: 'REF-legacy',
        tenantId,
        profiles: ['exchange-imap'],
        auth: { method: 'client_secret' },
      }),
    });
    const creds = (await created.json()) as { clientId: string; clientSecret: string };
    const res = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(creds), 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(EXCHANGE)}`,
    });
    expect(res.status).toBe(200);

    // The re-check timer's work (src/tenants/consent-watch.ts) on this tenant.
    await applyProof(b, before, await b.proveTenant(tenantId, before.profiles), {
      kind: 'system',
      id: 'test',
    });
    const migrated = (await b.tenants.get(tenantId))!;
    expect(migrated.apps).toEqual({
      [home]: { grantedRoles: before.grantedRoles, servicePrincipalId: before.servicePrincipalId },
    });
    expect(migrated.grantedRoles).toEqual(before.grantedRoles);
    expect(migrated.status).toBe('active');
  });
});
