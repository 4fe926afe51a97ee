/**
 * R2 (docs/security.md): audit rows are never altered or removed by the broker. The audit log writes with an
 * insert that fails on an existing key and reads with queries; no other code opens the `audit` table, and the
 * daily purge (src/maintenance/purge.ts) leaves it alone. What this cannot show: anyone with write access to
 * the storage account (the operator, the broker's identity) can still change rows (residual risk in R2).
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Row, StoredRow, Table, TableStorage } from '../../src/adapters/tables/port.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { purgeExpiredRows } from '../../src/maintenance/purge.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Table storage in memory that records each table operation as `table.operation`. */
function recordingStorage() {
  const calls: string[] = [];
  const tables = new Map<string, Map<string, StoredRow>>();
  const table = (name: string): Table => {
    const rows = tables.get(name) ?? new Map<string, StoredRow>();
    tables.set(name, rows);
    const key = (pk: string, rk: string) => `${pk}\u0000${rk}`;
    const put = (row: Row) => {
      const stored = { ...row, etag: String(Math.random()) };
      rows.set(key(row.partitionKey, row.rowKey), stored);
      return { etag: stored.etag };
    };
    const record = (op: string) => calls.push(`${name}.${op}`);
    return {
      insert: async (row) => {
        record('insert');
        if (rows.has(key(row.partitionKey, row.rowKey))) throw new Error('exists');
        return put(row);
      },
      get: async (pk, rk) => (record('get'), rows.get(key(pk, rk))),
      upsert: async (row) => (record('upsert'), put(row)),
      replace: async (row) => (record('replace'), put(row)),
      delete: async (pk, rk) => (record('delete'), rows.delete(key(pk, rk))),
      query: async (q) => {
        record('query');
        return {
          rows: [...rows.values()]
            .filter((r) => q.partitionKey === undefined || r.partitionKey === q.partitionKey)
            .sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1))
            .slice(0, q.top),
        };
      },
      mergeBatch: async () => void record('mergeBatch'),
    };
  };
  const storage: TableStorage = { table, ping: async () => undefined };
  return { storage, calls, rows: (name: string) => [...(tables.get(name)?.values() ?? [])] };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('the audit table is append-only from the code (R2)', () => {
  it('writes each entry with an insert and reads with queries: no upsert, replace, merge or delete', async () => {
    const s = recordingStorage();
    const audit = createAuditLog(s.storage, () => new Date('2026-12-02T12:00:00Z'));
    const entry = {
      action: 'appliance.revoked',
      tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
      actor: { kind: 'staff' as const, id: 'staff-1' },
      details: { clientId: 'c1' },
    };
    // Entries of one millisecond, and of one request, each get a row of their own.
    await audit.write(entry);
    await audit.write(entry);
    await audit.withCorrelation('invocation-1').write(entry);
    await audit.write({ ...entry, tenantId: null });
    const listed = await audit.list({ tenantId: entry.tenantId, top: 10 });
    expect(listed.items).toHaveLength(3);
    expect(s.rows('audit')).toHaveLength(4);
    expect(new Set(s.calls)).toEqual(new Set(['audit.insert', 'audit.query']));
  });

  it('is left alone by the daily purge', async () => {
    const s = recordingStorage();
    await createAuditLog(s.storage, () => new Date('2020-01-01T00:00:00Z')).write({
      action: 'consent.granted',
      tenantId: null,
      actor: { kind: 'system', id: 'broker' },
      details: {},
    });
    await purgeExpiredRows({ tables: s.storage, now: () => new Date('2030-01-01T00:00:00Z') });
    expect(s.calls.filter((c) => c.startsWith('audit.') && c !== 'audit.insert')).toEqual([]);
    expect(s.rows('audit')).toHaveLength(1);
  });

  it('is opened only by src/audit/audit-log.ts, which calls nothing on it but insert and query', async () => {
    const files = [
      ...(await sourceFiles(join(ROOT, 'src'))),
      ...(await sourceFiles(join(ROOT, 'functions'))),
    ];
    const opening: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      // A table is opened with `.table(name)`; a name other than a literal could be anything, audit included.
      for (const m of text.matchAll(/\.table\(\s*([^)]*?)\s*\)/g)) {
        const arg = m[1]!;
        if (arg === "'audit'" || arg === '"audit"' || !/^['"][a-z]+['"]$/i.test(arg))
          opening.push(`${relative(ROOT, file)}: .table(${arg})`);
      }
    }
    // The purge opens tables by a parameter: the test above shows it never opens `audit`. Only the tables
    // adapter (src/adapters/tables/data-tables.ts) makes SDK table clients, for the names it is given.
    expect(opening.sort()).toEqual([
      "src/audit/audit-log.ts: .table('audit')",
      'src/maintenance/purge.ts: .table(name)',
    ]);
    const auditLog = await readFile(join(ROOT, 'src/audit/audit-log.ts'), 'utf8');
    const uses = [...auditLog.matchAll(/\btable\.(\w+)\(/g)].map((m) => m[1]);
    expect(new Set(uses)).toEqual(new Set(['insert', 'query']));
  });
});
