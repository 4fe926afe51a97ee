/**
 * Read-modify-write of many rows of one partition in few requests, on the Table port (no SDK here): what
 * the usage flush (src/appliances/usage.ts) needs to add a minute's counts to 10,000 appliance rows without 10,000
 * reads and 10,000 writes. Rows are read one by one when there are few keys, else by scanning the partition
 * (1,000 rows a request, only the columns needed); the changes are written as merges of up to 100 rows per
 * transaction, each conditional on the etag read. When another writer changed a row of a transaction in the
 * meantime, nothing of it was written and its rows are done one at a time (read, merge, retry on a change).
 * @module
 */
import { MAX_BATCH, RowChanged, type Cell, type RowChange, type StoredRow, type Table } from './port.js';

/** Up to this many keys the rows are read one by one; above it the partition is scanned. */
const READ_EACH_UP_TO = 100;
/** A row changed by someone else this many times in a row is left for the next call. */
const ATTEMPTS = 5;

/**
 * Applies `change` to the rows of `keys` that exist (`change` returns the columns to merge, or undefined
 * for nothing to do). `columns` are those `change` reads. Returns the keys whose change could not be
 * written (storage unavailable, or changed by others too often): the caller keeps them for later. A key
 * without a row is not an error: there is nothing to update.
 */
export async function updateRows(
  table: Table,
  partitionKey: string,
  keys: readonly string[],
  columns: readonly string[],
  change: (row: StoredRow) => Record<string, Cell> | undefined,
): Promise<Set<string>> {
  let rows: Map<string, StoredRow>;
  try {
    rows = await readRows(table, partitionKey, keys, columns);
  } catch {
    return new Set(keys);
  }
  const changes: RowChange[] = [];
  for (const key of keys) {
    const row = rows.get(key);
    const values = row && change(row);
    if (row && values) changes.push({ rowKey: key, values, etag: row.etag });
  }
  const failed = new Set<string>();
  for (let i = 0; i < changes.length; i += MAX_BATCH) {
    const chunk = changes.slice(i, i + MAX_BATCH);
    try {
      await table.mergeBatch(partitionKey, chunk);
    } catch (err) {
      if (!(err instanceof RowChanged)) {
        for (const c of chunk) failed.add(c.rowKey);
        continue;
      }
      for (const c of chunk)
        if (!(await updateOne(table, partitionKey, c.rowKey, change))) failed.add(c.rowKey);
    }
  }
  return failed;
}

async function updateOne(
  table: Table,
  partitionKey: string,
  key: string,
  change: (row: StoredRow) => Record<string, Cell> | undefined,
): Promise<boolean> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const row = await table.get(partitionKey, key);
      const values = row && change(row);
      if (!row || !values) return true;
      await table.mergeBatch(partitionKey, [{ rowKey: key, values, etag: row.etag }]);
      return true;
    } catch (err) {
      if (!(err instanceof RowChanged)) return false;
    }
  }
  return false;
}

async function readRows(
  table: Table,
  partitionKey: string,
  keys: readonly string[],
  columns: readonly string[],
): Promise<Map<string, StoredRow>> {
  const rows = new Map<string, StoredRow>();
  if (keys.length <= READ_EACH_UP_TO) {
    for (const key of keys) {
      const row = await table.get(partitionKey, key);
      if (row) rows.set(key, row);
    }
    return rows;
  }
  const wanted = new Set(keys);
  let continuationToken: string | undefined;
  do {
    const page = await table.query({ partitionKey, select: columns, top: 1000, continuationToken });
    for (const row of page.rows) if (wanted.has(row.rowKey)) rows.set(row.rowKey, row);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return rows;
}
