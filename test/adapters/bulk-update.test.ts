/**
 * Read-modify-write of many rows in few requests (src/adapters/tables/bulk-update.ts) against Azurite: the
 * requests it makes (counted on the port), the result, and what happens when another writer changes a row
 * between the read and the write.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { updateRows } from '../../src/adapters/tables/bulk-update.js';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { StorageUnavailable, type StoredRow, type Table } from '../../src/adapters/tables/port.js';

const storage = () =>
  createDataTablesStorage({ kind: 'connectionString', connectionString: inject('tablesConnectionString') });

/** The real table, with each call counted by method, and an optional hook before each mergeBatch. */
function counted(table: Table, beforeMerge?: () => Promise<void>) {
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const wrapped: Table = {
    insert: (row) => (count('insert'), table.insert(row)),
    get: (pk, rk) => (count('get'), table.get(pk, rk)),
    upsert: (row) => (count('upsert'), table.upsert(row)),
    replace: (row, etag) => (count('replace'), table.replace(row, etag)),
    delete: (pk, rk, etag) => (count('delete'), table.delete(pk, rk, etag)),
    query: (q) => (count('query'), table.query(q)),
    mergeBatch: async (pk, changes) => {
      count('mergeBatch');
      await beforeMerge?.();
      return table.mergeBatch(pk, changes);
    },
  };
  return { table: wrapped, calls };
}

async function seeded(n: number): Promise<Table> {
  const table = storage().table(`b${randomUUID().replace(/-/g, '').slice(0, 20)}`);
  for (let i = 0; i < n; i += 100)
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, k) =>
        table.insert({
          partitionKey: 'p',
          rowKey: `r${String(i + k).padStart(4, '0')}`,
          count: 1,
          other: 'kept',
        }),
      ),
    );
  return table;
}

const add = (n: number) => (row: StoredRow) => ({ count: (row.count as number) + n });

describe('updateRows', () => {
  it('updates 250 rows with one partition read and three transactions, other columns untouched', async () => {
    const real = await seeded(260);
    const { table, calls } = counted(real);
    const keys = Array.from({ length: 250 }, (_, i) => `r${String(i).padStart(4, '0')}`);
    const failed = await updateRows(table, 'p', [...keys, 'missing'], ['count'], add(4));
    expect(failed).toEqual(new Set());
    expect(calls).toEqual({ query: 1, mergeBatch: 3 });
    expect(await real.get('p', 'r0000')).toMatchObject({ count: 5, other: 'kept' });
    expect(await real.get('p', 'r0249')).toMatchObject({ count: 5 });
    expect(await real.get('p', 'r0250')).toMatchObject({ count: 1 });
  });

  it('reads few rows one by one, and skips rows the change leaves alone', async () => {
    const real = await seeded(5);
    const { table, calls } = counted(real);
    const failed = await updateRows(table, 'p', ['r0000', 'r0001', 'r0002'], ['count'], (row) =>
      row.rowKey === 'r0001' ? undefined : { count: 9 },
    );
    expect(failed).toEqual(new Set());
    expect(calls).toEqual({ get: 3, mergeBatch: 1 });
    expect((await real.get('p', 'r0001'))?.count).toBe(1);
    expect((await real.get('p', 'r0002'))?.count).toBe(9);
  });

  it('when another writer changed a row meanwhile, nothing is lost: each row is re-read and written alone', async () => {
    const real = await seeded(3);
    let interfered = false;
    const { table, calls } = counted(real, async () => {
      if (interfered) return;
      interfered = true;
      const row = (await real.get('p', 'r0001'))!;
      await real.replace({ ...row, count: 50 }, row.etag); // another instance's flush
    });
    const failed = await updateRows(table, 'p', ['r0000', 'r0001', 'r0002'], ['count'], add(2));
    expect(failed).toEqual(new Set());
    expect(calls.mergeBatch).toBe(4); // the failed transaction, then one per row
    expect((await real.get('p', 'r0000'))?.count).toBe(3);
    expect((await real.get('p', 'r0001'))?.count).toBe(52);
    expect((await real.get('p', 'r0002'))?.count).toBe(3);
  });

  it('reports every key as not written when storage cannot be reached', async () => {
    const down = createDataTablesStorage({
      kind: 'connectionString',
      connectionString: inject('tablesConnectionString').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9'),
    }).table('unreachable');
    await expect(down.get('p', 'x')).rejects.toBeInstanceOf(StorageUnavailable);
    expect(await updateRows(down, 'p', ['a', 'b'], ['count'], add(1))).toEqual(new Set(['a', 'b']));
  });
});
