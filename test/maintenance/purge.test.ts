/**
 * The daily purge (src/maintenance/purge.ts) against Azurite: rows past their use go, rows still guarding
 * something stay — including the range filter it needs from the tables adapter (`lessThan`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { purgeExpiredRows } from '../../src/maintenance/purge.js';

describe('purge of expired rows', () => {
  it('removes expired states, old used-state markers, old jti rows and old journal entries, and nothing else', async () => {
    const tables = createDataTablesStorage({
      kind: 'connectionString',
      connectionString: inject('tablesConnectionString'),
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const id = () => randomUUID();
    const rows = {
      oldState: {
        partitionKey: 'state',
        rowKey: id(),
        purpose: 'consent',
        expiresAt: iso(now - 2 * 86_400_000),
      },
      freshState: { partitionKey: 'state', rowKey: id(), purpose: 'consent', expiresAt: iso(now - 60_000) },
      oldUsed: { partitionKey: 'used', rowKey: id(), usedAt: iso(now - 3 * 86_400_000) },
      freshUsed: { partitionKey: 'used', rowKey: id(), usedAt: iso(now - 3_600_000) },
      oldJti: { partitionKey: id(), rowKey: id(), expiresAt: iso(now - 2 * 3_600_000) },
      freshJti: { partitionKey: id(), rowKey: id(), expiresAt: iso(now - 60_000) },
      oldChange: {
        partitionKey: 'change',
        rowKey: `${iso(now - 2 * 3_600_000)}-${id()}`,
        kind: 'tenant',
        id: 'x',
      },
      freshChange: {
        partitionKey: 'change',
        rowKey: `${iso(now - 60_000)}-${id()}`,
        kind: 'tenant',
        id: 'y',
      },
      oldSession: { partitionKey: 'session', rowKey: id(), expiresAt: iso(now - 2 * 86_400_000) },
      freshSession: { partitionKey: 'session', rowKey: id(), expiresAt: iso(now - 3_600_000) },
    };
    const tableOf = (key: string) =>
      key.endsWith('State') || key.endsWith('Used')
        ? 'states'
        : key.endsWith('Jti')
          ? 'assertions'
          : key.endsWith('Session')
            ? 'consolesessions'
            : 'changes';
    for (const [key, row] of Object.entries(rows)) await tables.table(tableOf(key)).insert(row);

    const result = await purgeExpiredRows({ tables, now: () => new Date(now) });
    expect(result.states).toBeGreaterThanOrEqual(1);
    expect(result.used).toBeGreaterThanOrEqual(1);
    expect(result.assertions).toBeGreaterThanOrEqual(1);
    expect(result.changes).toBeGreaterThanOrEqual(1);
    expect(result.sessions).toBeGreaterThanOrEqual(1);

    for (const [key, row] of Object.entries(rows)) {
      const stored = await tables.table(tableOf(key)).get(row.partitionKey, row.rowKey);
      expect([key, stored !== undefined]).toEqual([key, key.startsWith('fresh')]);
    }
  });
});
