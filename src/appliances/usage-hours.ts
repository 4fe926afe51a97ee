/**
 * Tokens issued per hour, over all appliances, for the support console's chart (issue 22). Each instance adds
 * what its usage flush counted (src/appliances/usage.ts) to its own row per hour — partition `hours`, row
 * `<hour>|<instance id>`, so that instances never write the same row — and the console sums the rows of the last
 * 7 days: at most one write per instance per minute, one query per overview. A count is put in the hour of the
 * last token of its flush (flushes run every minute). Table `usagehours`; rows older than 8 days are purged
 * (src/maintenance/purge.ts).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { TableStorage } from '../adapters/tables/port.js';

const HOUR_MS = 3_600_000;

export interface UsageHours {
  /** Counts `count` tokens in the hour of `at` (ms), in memory until `flush`. */
  add(at: number, count: number): void;
  /** Writes this instance's counts of the hours changed since the last flush; kept for the next on failure. */
  flush(): Promise<void>;
  /** Tokens issued per hour from `since` on (hour starts in ms → count), summed over instances. */
  since(since: number): Promise<Map<number, number>>;
}

/** The start of the hour of `ms`, as ISO text (UTC): the row key's first part. */
const hourOf = (ms: number) => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();

export function createUsageHours(storage: TableStorage, instanceId: string = randomUUID()): UsageHours {
  const table = storage.table('usagehours');
  /** This instance's totals per hour (written in full each time: an upsert is idempotent). */
  const totals = new Map<string, number>();
  const changed = new Set<string>();
  return {
    add(at, count) {
      if (count <= 0) return;
      const hour = hourOf(at);
      totals.set(hour, (totals.get(hour) ?? 0) + count);
      changed.add(hour);
      // Only recent hours matter to this instance: older totals are written already.
      if (totals.size > 48)
        for (const h of [...totals.keys()].sort().slice(0, totals.size - 48)) totals.delete(h);
    },
    async flush() {
      for (const hour of [...changed]) {
        const count = totals.get(hour);
        changed.delete(hour);
        if (count === undefined) continue;
        try {
          await table.upsert({ partitionKey: 'hours', rowKey: `${hour}|${instanceId}`, hour, count });
        } catch {
          changed.add(hour);
        }
      }
    },
    async since(since) {
      const out = new Map<number, number>();
      let continuationToken: string | undefined;
      do {
        const page = await table.query({
          partitionKey: 'hours',
          rowKeyFrom: hourOf(since),
          top: 1000,
          ...(continuationToken ? { continuationToken } : {}),
        });
        for (const row of page.rows) {
          const at = Date.parse(String(row.hour));
          if (Number.isFinite(at) && typeof row.count === 'number')
            out.set(at, (out.get(at) ?? 0) + row.count);
        }
        continuationToken = page.continuationToken;
      } while (continuationToken);
      return out;
    },
  };
}
