import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import {
  InvalidContinuationToken,
  RowChanged,
  RowExists,
  StorageUnavailable,
} from '../../src/adapters/tables/port.js';

const storage = () =>
  createDataTablesStorage({ kind: 'connectionString', connectionString: inject('tablesConnectionString') });
const tableName = () => `t${randomUUID().replace(/-/g, '').slice(0, 20)}`;

describe('Table Storage adapter (@azure/data-tables against Azurite)', () => {
  it('creates the table on first use and reads back what it inserted', async () => {
    const table = storage().table(tableName());
    const { etag } = await table.insert({
      partitionKey: 'p',
      rowKey: 'r1',
      name: 'Contoso',
      count: 3,
      active: true,
    });
    expect(etag).toMatch(/^W\/"/);
    const row = await table.get('p', 'r1');
    expect(row).toMatchObject({
      partitionKey: 'p',
      rowKey: 'r1',
      name: 'Contoso',
      count: 3,
      active: true,
      etag,
    });
    expect(await table.get('p', 'missing')).toBeUndefined();
  });

  it('insert is a single-use guard: a second insert of the same keys throws RowExists (409 EntityAlreadyExists)', async () => {
    const table = storage().table(tableName());
    await table.insert({ partitionKey: 'state', rowKey: 'abc' });
    await expect(table.insert({ partitionKey: 'state', rowKey: 'abc' })).rejects.toBeInstanceOf(RowExists);
  });

  it('lets exactly one of many concurrent inserts of one key win', async () => {
    const table = storage().table(tableName());
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => table.insert({ partitionKey: 'jti', rowKey: 'one' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RowExists);
  });

  it('replace with a stale etag throws RowChanged (412), with the current etag succeeds', async () => {
    const table = storage().table(tableName());
    const first = await table.insert({ partitionKey: 'p', rowKey: 'r', v: 1 });
    const second = await table.replace({ partitionKey: 'p', rowKey: 'r', v: 2 }, first.etag);
    await expect(table.replace({ partitionKey: 'p', rowKey: 'r', v: 3 }, first.etag)).rejects.toBeInstanceOf(
      RowChanged,
    );
    expect((await table.get('p', 'r'))?.v).toBe(2);
    expect(second.etag).not.toBe(first.etag);
  });

  it('mergeBatch merges only the given columns of many rows in one transaction, all or nothing', async () => {
    const table = storage().table(tableName());
    const etags: string[] = [];
    for (let i = 0; i < 3; i++)
      etags.push((await table.insert({ partitionKey: 'p', rowKey: `r${i}`, name: `n${i}`, count: i })).etag);
    await table.mergeBatch(
      'p',
      etags.map((etag, i) => ({ rowKey: `r${i}`, values: { count: i + 10 }, etag })),
    );
    for (let i = 0; i < 3; i++)
      expect(await table.get('p', `r${i}`)).toMatchObject({ name: `n${i}`, count: i + 10 });

    // One stale etag: nothing of the batch is written.
    const fresh = await Promise.all([0, 1].map(async (i) => (await table.get('p', `r${i}`))!.etag));
    await expect(
      table.mergeBatch('p', [
        { rowKey: 'r0', values: { count: 100 }, etag: fresh[0]! },
        { rowKey: 'r1', values: { count: 101 }, etag: etags[1]! },
      ]),
    ).rejects.toBeInstanceOf(RowChanged);
    expect((await table.get('p', 'r0'))?.count).toBe(10);
    // A row that is gone fails the batch the same way.
    await table.delete('p', 'r2');
    await expect(
      table.mergeBatch('p', [{ rowKey: 'r2', values: { count: 1 }, etag: fresh[0]! }]),
    ).rejects.toBeInstanceOf(RowChanged);
    await expect(
      table.mergeBatch(
        'p',
        Array.from({ length: 101 }, (_, i) => ({ rowKey: `x${i}`, values: { count: 1 }, etag: '*' })),
      ),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('query with select returns the keys, the etag and the named columns only', async () => {
    const table = storage().table(tableName());
    await table.insert({ partitionKey: 'p', rowKey: 'a', name: 'Contoso', count: 3, secretish: 'x' });
    const page = await table.query({ partitionKey: 'p', select: ['count'], top: 10 });
    expect(page.rows).toHaveLength(1);
    const row = page.rows[0]!;
    expect(row).toMatchObject({ partitionKey: 'p', rowKey: 'a', count: 3 });
    expect(row.etag).toMatch(/^W\/"/);
    expect(row.name).toBeUndefined();
    expect(row.secretish).toBeUndefined();
    await expect(table.query({ partitionKey: 'p', select: ['bad name'], top: 10 })).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('pages in key order with continuation tokens, filters by column, and refuses a forged token', async () => {
    const table = storage().table(tableName());
    for (let i = 0; i < 5; i++)
      await table.insert({ partitionKey: 'p', rowKey: `r${i}`, status: i % 2 ? 'odd' : 'even' });
    const first = await table.query({ partitionKey: 'p', top: 2 });
    expect(first.rows.map((r) => r.rowKey)).toEqual(['r0', 'r1']);
    expect(first.continuationToken).toEqual(expect.any(String));
    const second = await table.query({
      partitionKey: 'p',
      top: 2,
      continuationToken: first.continuationToken,
    });
    expect(second.rows.map((r) => r.rowKey)).toEqual(['r2', 'r3']);
    const evens = await table.query({ partitionKey: 'p', where: { status: 'even' }, top: 10 });
    expect(evens.rows.map((r) => r.rowKey)).toEqual(['r0', 'r2', 'r4']);
    expect(evens.continuationToken).toBeUndefined();
    await expect(
      table.query({ partitionKey: 'p', top: 2, continuationToken: 'not-a-token' }),
    ).rejects.toBeInstanceOf(InvalidContinuationToken);
  });

  it('deletes, and reports a row that was not there', async () => {
    const table = storage().table(tableName());
    await table.insert({ partitionKey: 'p', rowKey: 'r' });
    expect(await table.delete('p', 'r')).toBe(true);
    expect(await table.delete('p', 'r')).toBe(false);
  });

  it('turns an unreachable service into StorageUnavailable', async () => {
    const down = createDataTablesStorage({
      kind: 'connectionString',
      connectionString: inject('tablesConnectionString').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9'),
    });
    await expect(down.ping()).rejects.toBeInstanceOf(StorageUnavailable);
    await expect(down.table(tableName()).get('p', 'r')).rejects.toBeInstanceOf(StorageUnavailable);
  });

  it('ping succeeds against Azurite', async () => {
    await expect(storage().ping()).resolves.toBeUndefined();
  });
});
