/**
 * Rows that only guard something for a while, removed once they guard nothing (docs/operations.md): without
 * this the `states`, `assertions` and `changes` tables grow with every consent, client assertion and change
 * for ever. A daily timer runs it (functions/timers.ts); rows are read in pages and deleted one by one, so an
 * outage in the middle leaves the rest for the next run.
 * - `states`: a consent `state` row a day after it expired (it is refused as expired until then, and as
 *   unknown after), and the `used` marker of a state two days after it was used (the state it guards has
 *   expired and been removed by then: `BROKER_STATE_TTL_S` is at most a day).
 * - `assertions`: a client assertion's `jti` row an hour after the assertion's `exp` (an assertion is refused
 *   as expired 30 s after its `exp` whatever the table holds).
 * - `changes`: change journal entries older than an hour (instances read the journal every 10 s and trust it
 *   only while they read it within 45 s).
 * - `usagehours`: tokens per hour older than 8 days (the console's chart shows 7; src/appliances/usage-hours.ts).
 * - `consolesessions`: a support console session a day after its absolute end (src/console/sessions.ts; it is
 *   refused from its end on, and ends earlier when idle or signed out).
 * @module
 */
import type { TableStorage } from '../adapters/tables/port.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const PAGE = 1000;

export interface PurgeResult {
  readonly states: number;
  readonly used: number;
  readonly assertions: number;
  readonly changes: number;
  readonly sessions: number;
  readonly usageHours: number;
}

export async function purgeExpiredRows(deps: {
  tables: TableStorage;
  now: () => Date;
}): Promise<PurgeResult> {
  const now = deps.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    states: await purge(deps.tables, 'states', 'state', { expiresAt: iso(now - DAY_MS) }),
    used: await purge(deps.tables, 'states', 'used', { usedAt: iso(now - 2 * DAY_MS) }),
    assertions: await purge(deps.tables, 'assertions', undefined, { expiresAt: iso(now - HOUR_MS) }),
    changes: await purge(deps.tables, 'changes', 'change', { rowKey: iso(now - HOUR_MS) }),
    sessions: await purge(deps.tables, 'consolesessions', 'session', { expiresAt: iso(now - DAY_MS) }),
    usageHours: await purge(deps.tables, 'usagehours', 'hours', { rowKey: iso(now - 8 * DAY_MS) }),
  };
}

async function purge(
  tables: TableStorage,
  name: string,
  partitionKey: string | undefined,
  lessThan: Record<string, string>,
): Promise<number> {
  const table = tables.table(name);
  let deleted = 0;
  // A continuation token names the next key to read, so deleting the rows already read does not disturb it.
  let continuationToken: string | undefined;
  do {
    const page = await table.query({
      ...(partitionKey !== undefined ? { partitionKey } : {}),
      lessThan,
      top: PAGE,
      ...(continuationToken !== undefined ? { continuationToken } : {}),
    });
    for (const row of page.rows) if (await table.delete(row.partitionKey, row.rowKey)) deleted++;
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);
  return deleted;
}
