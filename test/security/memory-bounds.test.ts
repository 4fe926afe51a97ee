/**
 * D4 (docs/security.md): the appliance directory (the token endpoint's in-memory view of appliances and
 * tenants, src/directory/record-directory.ts) stays within its bound whatever client ids callers make up:
 * every lookup of an unknown id is remembered (so made-up ids do not become a flood of reads), and the least
 * recently used entry goes once 200,000 are held.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRecordDirectory, NOT_CACHED } from '../../src/directory/record-directory.js';
import type { ApplianceStore } from '../../src/appliances/appliance-store.js';
import type { TenantRecord, TenantStore } from '../../src/tenants/tenant-store.js';
import { applianceRecord } from '../helpers/appliances.js';

function stores() {
  let reads = 0;
  const pbx = applianceRecord({ tenantId: 't-real' });
  const appliances = {
    get: async (id: string) => (reads++, id === pbx.clientId ? pbx : undefined),
  } as unknown as ApplianceStore;
  const tenants = {
    get: async (id: string) => (reads++, { tenantId: id } as unknown as TenantRecord),
  } as unknown as TenantStore;
  return { appliances, tenants, pbx, reads: () => reads };
}

describe('appliance directory bound (D4)', () => {
  it('holds at most 200,000 appliance entries by default: a stream of made-up client ids evicts the oldest', async () => {
    const s = stores();
    const dir = createRecordDirectory(s);
    expect(await dir.appliance(s.pbx.clientId)).toBe(s.pbx);
    const second = randomUUID();
    expect(await dir.appliance(second)).toBeUndefined();
    for (let i = 0; i < 199_998; i++) await dir.appliance(randomUUID());
    expect(s.reads()).toBe(200_000);
    // One more than the bound: the least recently used entry (the PBX's) goes, the next one stays.
    await dir.appliance(randomUUID());
    expect(dir.peekAppliance(s.pbx.clientId)).toBe(NOT_CACHED);
    expect(dir.peekAppliance(second)).toBeUndefined();
    expect(await dir.appliance(s.pbx.clientId)).toBe(s.pbx);
    expect(s.reads()).toBe(200_002);
  }, 60_000);

  it('bounds tenants the same way, least recently used first', async () => {
    const s = stores();
    const dir = createRecordDirectory(s, { maxEntries: 1_000 });
    for (let i = 0; i < 1_000; i++) await dir.tenant(`t-${i}`);
    // Used again: now the most recently used, so t-1 is the least.
    expect(dir.peekTenant('t-0')).toEqual({ tenantId: 't-0' });
    await dir.tenant('t-1000');
    expect(dir.peekTenant('t-1')).toBe(NOT_CACHED);
    expect(dir.peekTenant('t-0')).toEqual({ tenantId: 't-0' });
    expect(dir.peekTenant('t-1000')).toEqual({ tenantId: 't-1000' });
    expect(s.reads()).toBe(1_001);
  });
});
