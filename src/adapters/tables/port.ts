/**
 * What the broker needs from Azure Table Storage: tables of rows addressed by partition and row key, with
 * insert-if-absent (the single-use guard for `state` and `jti`: STYLE.md), optimistic concurrency by etag,
 * and paged queries with opaque continuation tokens.
 * @module
 */

export type Cell = string | number | boolean | Date | null;

export interface Row {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly [column: string]: Cell | undefined;
}

export interface StoredRow extends Row {
  readonly etag: string;
}

export interface Page {
  readonly rows: readonly StoredRow[];
  /** Present when more rows may follow; pass it back unchanged to read the next page. */
  readonly continuationToken?: string;
}

export interface Query {
  readonly partitionKey?: string;
  /** Columns that must equal these values (combined with "and"). */
  readonly where?: Readonly<Record<string, string | number | boolean>>;
  /** Only rows whose row key sorts at or after this one. */
  readonly rowKeyFrom?: string;
  /**
   * Columns that must sort before these values (string comparison: ISO times compare as times). `rowKey`
   * names the row key.
   */
  readonly lessThan?: Readonly<Record<string, string>>;
  /** Only these columns (besides the keys and the etag); all when absent. */
  readonly select?: readonly string[];
  /** Page size, 1..1000. */
  readonly top: number;
  readonly continuationToken?: string;
}

/** Columns to merge into one existing row, if it still has `etag`. */
export interface RowChange {
  readonly rowKey: string;
  readonly values: Readonly<Record<string, Cell>>;
  readonly etag: string;
}

/** Most changes one `mergeBatch` takes: an entity group transaction holds at most 100 operations. */
export const MAX_BATCH = 100;

export interface Table {
  /** Inserts the row; throws RowExists when one with the same keys exists (atomic on the service). */
  insert(row: Row): Promise<{ etag: string }>;
  get(partitionKey: string, rowKey: string): Promise<StoredRow | undefined>;
  /** Inserts or replaces the row unconditionally. */
  upsert(row: Row): Promise<{ etag: string }>;
  /** Replaces the row only if it still has `etag`; throws RowChanged otherwise, RowMissing if gone. */
  replace(row: Row, etag: string): Promise<{ etag: string }>;
  /** Deletes the row (only if it still has `etag`, when given); false when it did not exist. */
  delete(partitionKey: string, rowKey: string, etag?: string): Promise<boolean>;
  /** Rows in key order (partition key, then row key): a stable order for paging. */
  query(query: Query): Promise<Page>;
  /**
   * Merges the given columns into up to MAX_BATCH rows of one partition in one request, all or nothing: if
   * any row no longer has its etag (or is gone), nothing is written and RowChanged is thrown.
   */
  mergeBatch(partitionKey: string, changes: readonly RowChange[]): Promise<void>;
}

export interface TableStorage {
  /** A table by name (3–63 alphanumerics, not starting with a digit); created on first use. */
  table(name: string): Table;
  /** Reaches the service; throws StorageUnavailable when it cannot. */
  ping(): Promise<void>;
}

export class RowExists extends Error {
  constructor() {
    super('A row with these keys already exists.');
    this.name = 'RowExists';
  }
}
export class RowChanged extends Error {
  constructor() {
    super('The row was changed by someone else.');
    this.name = 'RowChanged';
  }
}
export class RowMissing extends Error {
  constructor() {
    super('The row does not exist.');
    this.name = 'RowMissing';
  }
}
export class InvalidContinuationToken extends Error {
  constructor() {
    super('The continuation token is not one this service issued.');
    this.name = 'InvalidContinuationToken';
  }
}
export class StorageUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super('Table Storage is unavailable.', options);
    this.name = 'StorageUnavailable';
  }
}
