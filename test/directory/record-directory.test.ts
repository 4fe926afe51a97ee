/**
 * The token endpoint's in-memory view of appliances and tenants: no I/O on the warm path, and a revocation
 * written by any instance seen everywhere within 60 s
 * (docs/decisions.md "Revocation within 60 s, warm path without I/O").
 * @module
 */
import { describe, expect, it } from 'vitest';
import { createRecordDirectory, NOT_CACHED } from '../../src/directory/record-directory.js';
import type { Appliance, ApplianceStore } from '../../src/appliances/appliance-store.js';
import type { TenantStore } from '../../src/tenants/tenant-store.js';
import { grantKey, type Change } from '../../src/directory/change-journal.js';
import type { MailboxGrant, MailboxGrantStore } from '../../src/grants/grant-store.js';
import { applianceRecord } from '../helpers/appliances.js';

function stores() {
  const rows = new Map<string, Appliance>();
  let reads = 0;
  const appliances: ApplianceStore = {
    create: async (a) => void rows.set(a.clientId, a),
    get: async (id) => {
      reads++;
      return rows.get(id);
    },
    update: async (a) => (rows.set(a.clientId, a), a),
    list: async () => ({ items: [...rows.values()] }),
    addUsage: async () => new Set(),
  };
  const tenants = { get: async () => undefined } as unknown as TenantStore;
  return { rows, appliances, tenants, reads: () => reads };
}

const appliance = (status: 'active' | 'revoked'): Appliance =>
  applianceRecord({ clientId: 'c1', customerRef: 'x', tenantId: 't', profiles: [], status });

describe('appliance directory', () => {
  it('answers from memory for 30 s, refreshes behind the request until 60 s, and never serves older data', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const dir = createRecordDirectory(s, { now: () => t });
    expect((await dir.appliance('c1'))?.status).toBe('active');
    expect(s.reads()).toBe(1);

    // Another instance revokes it.
    s.rows.set('c1', appliance('revoked'));
    t = 29_000;
    expect((await dir.appliance('c1'))?.status).toBe('active'); // warm: no I/O
    expect(s.reads()).toBe(1);

    t = 45_000;
    expect((await dir.appliance('c1'))?.status).toBe('active'); // stale: served, refreshed behind
    await new Promise((r) => setImmediate(r));
    expect(s.reads()).toBe(2);
    expect((await dir.appliance('c1'))?.status).toBe('revoked');
  });

  it('reads again before use once an entry is 60 s old, so a revocation is seen within 60 s even after a quiet spell', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const dir = createRecordDirectory(s, { now: () => t });
    await dir.appliance('c1');
    s.rows.set('c1', appliance('revoked'));
    t = 600_000;
    expect((await dir.appliance('c1'))?.status).toBe('revoked');
  });

  it('remembers unknown client ids briefly and shares one read between concurrent misses', async () => {
    const s = stores();
    const dir = createRecordDirectory(s, { now: () => 0 });
    await Promise.all(Array.from({ length: 20 }, () => dir.appliance('nobody')));
    expect(s.reads()).toBe(1);
    expect(await dir.appliance('nobody')).toBeUndefined();
    expect(s.reads()).toBe(1);
  });
});

describe('appliance directory with a change journal', () => {
  it('keeps entries valid until the journal names them, and drops them within one poll of a change anywhere', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const changes: { kind: 'appliance' | 'tenant'; id: string; at: string }[] = [];
    const journal = {
      record: async () => undefined,
      read: async (since: string) => changes.filter((c) => c.at >= since),
    };
    const dir = createRecordDirectory(s, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.pollJournal();
    expect((await dir.appliance('c1'))?.status).toBe('active');
    t = 40_000;
    await dir.pollJournal();
    t = 50_000; // past the age limits, but the journal was read 10 s ago: no read
    expect((await dir.appliance('c1'))?.status).toBe('active');
    expect(s.reads()).toBe(1);

    // Another instance revokes it and journals the change.
    s.rows.set('c1', appliance('revoked'));
    changes.push({ kind: 'appliance', id: 'c1', at: new Date(t).toISOString() });
    await dir.pollJournal();
    expect((await dir.appliance('c1'))?.status).toBe('revoked');
    expect(s.reads()).toBe(2);
  });

  it('trusts an entry the journal never names for 15 min at most: a lost journal entry is seen by then', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const journal = { record: async () => undefined, read: async () => [] };
    const dir = createRecordDirectory(s, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.pollJournal();
    await dir.appliance('c1');
    // Revoked by another instance whose journal write failed and was never repeated.
    s.rows.set('c1', appliance('revoked'));
    for (t = 60_000; t < 15 * 60_000; t += 60_000) {
      await dir.pollJournal();
      expect(dir.peekAppliance('c1')).toMatchObject({ status: 'active' });
    }
    expect(s.reads()).toBe(1);
    t = 15 * 60_000;
    await dir.pollJournal();
    // Served once more while a read behind the request refreshes it; then the revocation shows.
    expect(dir.peekAppliance('c1')).toMatchObject({ status: 'active' });
    await new Promise((r) => setImmediate(r));
    expect(s.reads()).toBe(2);
    expect(dir.peekAppliance('c1')).toMatchObject({ status: 'revoked' });
    // Unused past 15.5 min: read before use.
    t += 15 * 60_000 + 31_000;
    await dir.pollJournal();
    expect(dir.peekAppliance('c1')).toBe(NOT_CACHED);
  });

  it('falls back to ageing entries when the journal cannot be read', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const journal = {
      record: async () => undefined,
      read: async (): Promise<never> => Promise.reject(new Error('down')),
    };
    const dir = createRecordDirectory(s, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.appliance('c1');
    s.rows.set('c1', appliance('revoked'));
    t = 61_000;
    expect((await dir.appliance('c1'))?.status).toBe('revoked');
  });
});

describe('appliance directory journal paging', () => {
  it('reads a burst of more than one page of changes to its end, then trusts its cache again', async () => {
    let t = 100_000;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const changes = Array.from({ length: 2_500 }, (_, i) => ({
      kind: 'appliance' as const,
      id: `other-${i}`,
      at: new Date(90_000 + i).toISOString(),
    }));
    const journal = {
      record: async () => undefined,
      read: async (since: string, limit: number) => changes.filter((c) => c.at >= since).slice(0, limit),
    };
    const dir = createRecordDirectory(s, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.appliance('c1');
    await dir.pollJournal();
    t += 120_000; // far past the age limits: only a trusted journal avoids a read
    await dir.pollJournal();
    expect((await dir.appliance('c1'))?.status).toBe('active');
    expect(s.reads()).toBe(1);
  });
});

describe('appliance directory holds (the warm path checks a held entry without a lookup)', () => {
  it('answer as peek does while the entry is kept, and NOT_CACHED once it is replaced, dropped or evicted', async () => {
    let t = 0;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    s.rows.set('c2', appliance('active'));
    const dir = createRecordDirectory(s, { now: () => t, maxEntries: 2 });
    expect(dir.holdAppliance('c1')).toBeUndefined(); // nothing kept yet
    const first = await dir.appliance('c1');
    const hold = dir.holdAppliance('c1')!;
    expect(hold.peek()).toBe(first);
    expect(hold.peek()).toBe(dir.peekAppliance('c1'));

    // Refreshed behind a request (30–60 s old): the new record is another entry; the old hold misses.
    s.rows.set('c1', appliance('revoked'));
    t = 45_000;
    expect(hold.peek()).toBe(first); // stale: still served, refresh started
    await new Promise((r) => setImmediate(r));
    expect(hold.peek()).toBe(NOT_CACHED);
    const second = dir.holdAppliance('c1')!;
    expect((second.peek() as Appliance).status).toBe('revoked');

    // Dropped here (a change made on this instance).
    dir.invalidate('appliance', 'c1');
    expect(second.peek()).toBe(NOT_CACHED);

    // Evicted: two entries at most, least recently used out first.
    await dir.appliance('c1');
    const third = dir.holdAppliance('c1')!;
    await dir.appliance('c2');
    await dir.appliance('c3'); // unknown ids are remembered too: c1 is evicted
    expect(third.peek()).toBe(NOT_CACHED);
    expect(dir.peekAppliance('c1')).toBe(NOT_CACHED);
  });

  it('miss once the change journal names the entry', async () => {
    const t = 100_000;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    const changes: { kind: 'appliance'; id: string; at: string }[] = [];
    const journal = {
      record: async () => undefined,
      read: async (since: string) => changes.filter((c) => c.at >= since),
    };
    const dir = createRecordDirectory(s, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.appliance('c1');
    await dir.pollJournal();
    const hold = dir.holdAppliance('c1')!;
    expect((hold.peek() as Appliance).status).toBe('active');
    changes.push({ kind: 'appliance', id: 'c1', at: new Date(t).toISOString() });
    await dir.pollJournal();
    expect(hold.peek()).toBe(NOT_CACHED);
  });
});

describe('appliance directory reads in flight during a change (docs/security.md S13)', () => {
  it('counts an entry as loaded when its read started: a change journaled while the read was in flight drops it', async () => {
    let t = 100_000;
    const s = stores();
    s.rows.set('c1', appliance('active'));
    let release: () => void = () => undefined;
    const slow: ApplianceStore = {
      ...s.appliances,
      get: (id) => {
        const row = s.rows.get(id); // what the read sees when it starts
        return new Promise((r) => (release = () => r(row)));
      },
    };
    const changes: { kind: 'appliance'; id: string; at: string }[] = [];
    const journal = {
      record: async () => undefined,
      read: async (since: string) => changes.filter((c) => c.at >= since),
    };
    const dir = createRecordDirectory(
      { appliances: slow, tenants: s.tenants },
      { now: () => t, journal, pollMs: 3_600_000 },
    );
    await dir.pollJournal();
    const first = dir.appliance('c1'); // the read starts before the revocation
    s.rows.set('c1', appliance('revoked'));
    changes.push({ kind: 'appliance', id: 'c1', at: new Date(t).toISOString() });
    t += 20_000;
    await dir.pollJournal(); // the change is read while the read is still in flight
    release();
    expect((await first)?.status).toBe('active'); // it answers the request that waited for it
    await dir.pollJournal();
    const next = dir.appliance('c1');
    release();
    expect((await next)?.status).toBe('revoked');
  });
});

describe('mailbox grants in the directory', () => {
  it('finds a grant by its handle from memory, and reads it again once the journal names the grant', async () => {
    let t = 0;
    const s = stores();
    let status: 'active' | 'revoked' = 'active';
    let grantReads = 0;
    let refReads = 0;
    const grants = {
      handleRef: async (h: string) => (
        refReads++,
        h === 'mbh_x' ? { tenantId: 't', grantId: 'g1' } : undefined
      ),
      get: async (tenantId: string, id: string) => {
        grantReads++;
        return tenantId === 't' && id === 'g1' ? ({ id, tenantId, status } as MailboxGrant) : undefined;
      },
    } as unknown as MailboxGrantStore;
    const changes: Change[] = [];
    const journal = {
      record: async () => undefined,
      read: async (since: string) => changes.filter((c) => c.at >= since),
    };
    const dir = createRecordDirectory({ ...s, grants }, { now: () => t, journal, pollMs: 3_600_000 });
    await dir.pollJournal();
    expect((await dir.grantByHandle('mbh_x'))?.status).toBe('active');
    t = 50_000;
    await dir.pollJournal();
    expect((await dir.grantByHandle('mbh_x'))?.status).toBe('active');
    expect(await dir.grantByHandle('mbh_unknown')).toBeUndefined();
    expect(await dir.grantByHandle('mbh_unknown')).toBeUndefined();
    expect({ grantReads, refReads }).toEqual({ grantReads: 1, refReads: 2 });

    // Revoked on another instance: the journal names the grant (not the handle).
    status = 'revoked';
    changes.push({ kind: 'grant', id: grantKey('T', 'g1'), at: new Date(t).toISOString() });
    await dir.pollJournal();
    expect((await dir.grantByHandle('mbh_x'))?.status).toBe('revoked');
    expect({ grantReads, refReads }).toEqual({ grantReads: 2, refReads: 2 });

    // Changed here: dropped at once.
    status = 'active';
    dir.invalidate('grant', grantKey('t', 'g1'));
    expect((await dir.grantByHandle('mbh_x'))?.status).toBe('active');
    expect(grantReads).toBe(3);
  });
});
