/**
 * Usage aggregation (src/appliances/usage.ts) against Azurite: counts reach the appliance row at every
 * periodic flush, but a `tokens.issued` audit entry per appliance only once its counts are an hour old — and
 * at once on an explicit flush or at shutdown, so nothing counted goes unaudited.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { createApplianceStore } from '../../src/appliances/appliance-store.js';
import { createUsageRecorder } from '../../src/appliances/usage.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createTenantStore } from '../../src/tenants/tenant-store.js';
import { applianceRecord } from '../helpers/appliances.js';

const storage = () =>
  createDataTablesStorage({ kind: 'connectionString', connectionString: inject('tablesConnectionString') });

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met within 5 s');
}

describe('usage recorder', () => {
  it('writes counts every flush, audits them at most hourly, and audits the rest at stop', async () => {
    const tables = storage();
    const appliances = createApplianceStore(tables);
    const audit = createAuditLog(tables);
    const clientId = randomUUID();
    const tenantId = randomUUID();
    await appliances.create(applianceRecord({ clientId, customerRef: 'USAGE-1', tenantId }));
    let now = Date.now();
    const usage = createUsageRecorder(
      { appliances, tenants: createTenantStore(tables), audit },
      { intervalMs: 50, now: () => now },
    );
    const issued = async () =>
      (await audit.list({ tenantId, top: 100 })).items.filter((e) => e.action === 'tokens.issued');
    const count = async () => (await appliances.get(clientId))?.tokenCount ?? 0;

    for (let i = 0; i < 3; i++) usage.record(clientId, tenantId);
    await until(async () => (await count()) === 3);
    await new Promise((r) => setTimeout(r, 150)); // a few more periodic flushes
    expect(await issued()).toEqual([]);

    now += 3_600_000;
    for (let i = 0; i < 2; i++) usage.record(clientId, tenantId);
    await until(async () => (await issued()).length === 1);
    expect(await count()).toBe(5);
    expect((await issued())[0]!.details).toMatchObject({ clientId, count: 5 });

    usage.record(clientId, tenantId);
    await usage.stop();
    expect(await count()).toBe(6);
    expect((await issued()).map((e) => e.details.count)).toEqual([5, 1]);
  });
});

describe('usage counter (the warm path keeps one per appliance)', () => {
  it('counts across flushes, and loses nothing when a flush fails and its counts go back to pending', async () => {
    const tables = storage();
    const appliances = createApplianceStore(tables);
    const clientId = randomUUID();
    const tenantId = randomUUID();
    await appliances.create(applianceRecord({ clientId, customerRef: 'USAGE-2', tenantId }));
    let failNext = false;
    let duringFlush = (): void => undefined;
    const flaky = {
      ...appliances,
      addUsage: (batch: Parameters<typeof appliances.addUsage>[0]) => {
        if (!failNext) return appliances.addUsage(batch);
        failNext = false;
        duringFlush(); // a token vended while the flush is out
        return Promise.reject(new Error('storage down'));
      },
    };
    const usage = createUsageRecorder(
      { appliances: flaky, tenants: createTenantStore(tables), audit: createAuditLog(tables) },
      { intervalMs: 3_600_000 },
    );
    const tokens = async () => (await appliances.get(clientId))?.tokenCount ?? 0;
    const counted = usage.counter(clientId, tenantId);
    duringFlush = counted;

    for (let i = 0; i < 3; i++) counted();
    await usage.flush();
    expect(await tokens()).toBe(3);

    counted(); // a new entry after the flush took the last one
    failNext = true;
    await usage.flush(); // counts 1 more while out, then fails: its 1 goes back to pending, with that one
    counted(); // into the same entry the counter held since the flush
    counted();
    usage.record(clientId, tenantId);
    await usage.stop();
    expect(await tokens()).toBe(8);
  });
});
