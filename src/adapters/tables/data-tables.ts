/**
 * Table Storage on @azure/data-tables: by connection string (Azurite, or an account key), or by table
 * service URI with a token credential (managed identity; role Storage Table Data Contributor, FACTS.md §10).
 * The only module that imports @azure/data-tables; SDK errors become port errors here.
 * @module
 */
import { RestError, TableClient, TableServiceClient, type TableEntityResult } from '@azure/data-tables';
import type { TokenCredential } from '@azure/core-auth';
import type { TableStorageConfig } from '../../config.js';
import {
  InvalidContinuationToken,
  MAX_BATCH,
  RowChanged,
  RowExists,
  RowMissing,
  StorageUnavailable,
  type Cell,
  type Page,
  type Query,
  type Row,
  type StoredRow,
  type Table,
  type TableStorage,
} from './port.js';

// Bounded retries: a request fails over to the caller (503 + Retry-After) within a few seconds.
const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 };

export function createDataTablesStorage(
  config: TableStorageConfig,
  credential?: TokenCredential,
): TableStorage {
  const clientFor = (name: string): TableClient => {
    if (config.kind === 'connectionString') {
      // An http endpoint is only accepted (by config.ts) for loopback, i.e. Azurite.
      const insecure = /TableEndpoint=http:|UseDevelopmentStorage=true/i.test(config.connectionString);
      return TableClient.fromConnectionString(config.connectionString, name, {
        allowInsecureConnection: insecure,
        retryOptions,
      });
    }
    if (!credential) throw new Error('A token credential is required for BROKER_STORAGE__tableServiceUri');
    return new TableClient(config.tableServiceUri, name, credential, { retryOptions });
  };
  const service =
    config.kind === 'connectionString'
      ? TableServiceClient.fromConnectionString(config.connectionString, {
          allowInsecureConnection: /TableEndpoint=http:|UseDevelopmentStorage=true/i.test(
            config.connectionString,
          ),
          retryOptions,
        })
      : new TableServiceClient(config.tableServiceUri, credential!, { retryOptions });
  const tables = new Map<string, Table>();

  return {
    table(name) {
      if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) throw new Error(`invalid table name "${name}"`);
      let table = tables.get(name);
      if (!table) {
        table = createTable(clientFor(name));
        tables.set(name, table);
      }
      return table;
    },
    async ping() {
      try {
        const pages = service.listTables().byPage({ maxPageSize: 1 });
        await pages.next();
      } catch (err) {
        throw toPortError(err);
      }
    },
  };
}

function createTable(client: TableClient): Table {
  let created: Promise<void> | undefined;
  const ensureTable = (): Promise<void> => {
    created ??= client.createTable().catch((err: unknown) => {
      created = undefined;
      throw err;
    });
    return created;
  };
  // Every operation makes sure the table exists once; a missing table (deleted behind our back) is made again.
  const run = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      await ensureTable();
      return await op();
    } catch (err) {
      if (
        err instanceof RestError &&
        err.statusCode === 404 &&
        /TableNotFound/i.test(err.code ?? err.message)
      ) {
        created = undefined;
        await ensureTable().catch((e: unknown) => {
          throw toPortError(e);
        });
        try {
          return await op();
        } catch (retryErr) {
          throw toPortError(retryErr);
        }
      }
      throw toPortError(err);
    }
  };

  return {
    insert: (row) =>
      run(async () => {
        const r = await client.createEntity(toEntity(row));
        return { etag: r.etag ?? '' };
      }),
    get: (pk, rk) =>
      run(async () => {
        try {
          return fromEntity(await client.getEntity<Record<string, unknown>>(pk, rk));
        } catch (err) {
          if (err instanceof RestError && err.statusCode === 404 && !/TableNotFound/i.test(err.code ?? ''))
            return undefined;
          throw err;
        }
      }),
    upsert: (row) =>
      run(async () => {
        const r = await client.upsertEntity(toEntity(row), 'Replace');
        return { etag: r.etag ?? '' };
      }),
    replace: (row, etag) =>
      run(async () => {
        const r = await client.updateEntity(toEntity(row), 'Replace', { etag });
        return { etag: r.etag ?? '' };
      }),
    delete: (pk, rk, etag) =>
      run(async () => {
        try {
          await client.deleteEntity(pk, rk, etag ? { etag } : undefined);
          return true;
        } catch (err) {
          if (err instanceof RestError && err.statusCode === 404 && !/TableNotFound/i.test(err.code ?? ''))
            return false;
          throw err;
        }
      }),
    query: (q) => run(() => queryPage(client, q)),
    mergeBatch: async (pk, changes) => {
      if (changes.length === 0) return;
      if (changes.length > MAX_BATCH) throw new RangeError(`at most ${MAX_BATCH} changes per batch`);
      try {
        await run(() =>
          client.submitTransaction(
            changes.map((c) => [
              'update',
              toEntity({ ...c.values, partitionKey: pk, rowKey: c.rowKey }),
              'Merge',
              { etag: c.etag },
            ]),
          ),
        );
      } catch (err) {
        // A failed operation fails the transaction: 412 (etag) or 404 (row gone) for one of its rows.
        if (err instanceof RowMissing) throw new RowChanged();
        throw err;
      }
    },
  };
}

/** A column name the query may name: an identifier (it goes into the OData filter as it is). */
function assertColumn(column: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(column)) throw new RangeError(`invalid column name ${column}`);
}

async function queryPage(client: TableClient, q: Query): Promise<Page> {
  if (!Number.isInteger(q.top) || q.top < 1 || q.top > 1000) throw new RangeError('top must be 1..1000');
  const clauses: string[] = [];
  if (q.partitionKey !== undefined) clauses.push(`PartitionKey eq ${odataLiteral(q.partitionKey)}`);
  if (q.rowKeyFrom !== undefined) clauses.push(`RowKey ge ${odataLiteral(q.rowKeyFrom)}`);
  for (const [column, value] of Object.entries(q.where ?? {})) {
    assertColumn(column);
    clauses.push(`${column} eq ${odataLiteral(value)}`);
  }
  for (const [column, value] of Object.entries(q.lessThan ?? {})) {
    assertColumn(column);
    clauses.push(`${column === 'rowKey' ? 'RowKey' : column} lt ${odataLiteral(value)}`);
  }
  const filter = clauses.length ? clauses.join(' and ') : undefined;
  for (const column of q.select ?? []) assertColumn(column);
  // With $select the service returns only what is named: the keys are named too.
  const select = q.select ? ['PartitionKey', 'RowKey', ...q.select] : undefined;
  let pages;
  try {
    pages = client
      .listEntities<Record<string, unknown>>({
        queryOptions: { ...(filter ? { filter } : {}), ...(select ? { select } : {}) },
      })
      .byPage({
        maxPageSize: q.top,
        continuationToken: q.continuationToken,
      });
  } catch {
    throw new InvalidContinuationToken();
  }
  let first;
  try {
    first = await pages.next();
  } catch (err) {
    // The SDK decodes the token before sending anything: a token it cannot decode is the caller's error.
    if (q.continuationToken && !(err instanceof RestError)) throw new InvalidContinuationToken();
    throw err;
  }
  if (first.done || !first.value) return { rows: [] };
  const page = first.value;
  const rows = page.map(fromEntity);
  return page.continuationToken ? { rows, continuationToken: page.continuationToken } : { rows };
}

/** An OData literal: strings quoted with '' escaping (OData ABNF), numbers and booleans as they are. */
function odataLiteral(value: string | number | boolean): string {
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new RangeError('non-finite number in a filter');
  return String(value);
}

function toEntity(row: Row): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const out: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: row.partitionKey,
    rowKey: row.rowKey,
  };
  for (const [k, v] of Object.entries(row)) {
    if (k === 'partitionKey' || k === 'rowKey' || k === 'etag' || v === undefined || v === null) continue;
    out[k] = v;
  }
  return out;
}

function fromEntity(entity: TableEntityResult<Record<string, unknown>>): StoredRow {
  const out: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k === 'etag' || k === 'timestamp' || k === 'odata.metadata' || k === 'partitionKey' || k === 'rowKey')
      continue;
    if (
      typeof v === 'string' ||
      typeof v === 'number' ||
      typeof v === 'boolean' ||
      v instanceof Date ||
      v === null
    )
      out[k] = v;
  }
  return { ...out, partitionKey: entity.partitionKey ?? '', rowKey: entity.rowKey ?? '', etag: entity.etag };
}

function toPortError(err: unknown): Error {
  if (
    err instanceof RowExists ||
    err instanceof RowChanged ||
    err instanceof RowMissing ||
    err instanceof InvalidContinuationToken ||
    err instanceof RangeError
  )
    return err;
  if (err instanceof RestError) {
    const code = err.code ?? '';
    if (err.statusCode === 409 && /EntityAlreadyExists/i.test(code || err.message)) return new RowExists();
    if (err.statusCode === 412) return new RowChanged();
    if (err.statusCode === 404 && /ResourceNotFound/i.test(code || err.message)) return new RowMissing();
    if (
      err.statusCode === undefined ||
      err.statusCode >= 500 ||
      err.statusCode === 429 ||
      err.statusCode === 408
    ) {
      const retryAfter = Number(err.response?.headers.get('retry-after'));
      return new StorageUnavailable(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 5, {
        cause: err,
      });
    }
  }
  // Connection refused, reset, DNS: the service cannot be reached.
  if (
    err instanceof Error &&
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|socket hang up|fetch failed/i.test(
      `${err.message} ${String((err as { code?: unknown }).code)}`,
    )
  ) {
    return new StorageUnavailable(5, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
