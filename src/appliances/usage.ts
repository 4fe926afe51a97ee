/**
 * Appliance usage (SPEC.md `lastSeenAt`, `tokenCount`): each vended token is counted in memory — no storage write per request —
 * and the counts are flushed periodically: the appliance's `lastSeenAt` and `tokenCount` and the tenant's
 * `lastTokenAt` every minute, and one aggregated audit entry per appliance (`tokens.issued`) at most once an
 * hour — a minute's entry per appliance would make 14 million audit rows a day for 10,000 busy PBXs — and at
 * shutdown or an explicit flush. Every instance flushes its own counts on its own interval (a Functions
 * timer runs on one instance only, so it could not see the others' counters).
 * @module
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { ApplianceStore } from './appliance-store.js';
import type { UsageHours } from './usage-hours.js';

export const USAGE_FLUSH_INTERVAL_MS = 60_000;
/** How often at most an appliance's counts become a `tokens.issued` audit entry (in the periodic flush). */
export const USAGE_AUDIT_INTERVAL_MS = 3_600_000;

export interface UsageRecorder {
  record(clientId: string, tenantId: string): void;
  /**
   * `record` for one appliance, kept by the caller: it counts into the same pending entry without a lookup
   * until a flush takes that entry, then starts the next one (the warm path, over 10,000 appliances).
   */
  counter(clientId: string, tenantId: string): () => void;
  /**
   * Writes what was counted since the last flush, and audits every count not audited yet; counts that fail to
   * write are kept for the next one. (The periodic flush audits an appliance's counts at most once an hour.)
   */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

interface Pending {
  tenantId: string;
  count: number;
  first: number;
  last: number;
}

export function createUsageRecorder(
  deps: {
    appliances: ApplianceStore;
    tenants: TenantStore;
    audit: AuditLog;
    /** Tokens per hour over all appliances, for the support console (src/appliances/usage-hours.ts). */
    hours?: UsageHours;
  },
  options: { intervalMs?: number; auditIntervalMs?: number; now?: () => number } = {},
): UsageRecorder {
  const now = options.now ?? Date.now;
  const auditIntervalMs = options.auditIntervalMs ?? USAGE_AUDIT_INTERVAL_MS;
  let pending = new Map<string, Pending>();
  /** Which `pending` map is current: a counter's entry of an earlier one was taken by a flush. */
  let generation = 0;
  /** Counts already written to the appliance rows but not yet audited, by client id. */
  const unaudited = new Map<string, Pending>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  /** Adds `p` to the entry of `clientId` in place (a counter may hold that entry), or adds a copy of it. */
  const merge = (into: Map<string, Pending>, clientId: string, p: Pending) => {
    const had = into.get(clientId);
    if (had === undefined) {
      into.set(clientId, { ...p });
      return;
    }
    had.tenantId = p.tenantId;
    had.count += p.count;
    had.first = Math.min(had.first, p.first);
    had.last = Math.max(had.last, p.last);
  };

  const flushOnce = async (auditAll: boolean) => {
    const batch = pending;
    pending = new Map();
    generation++;
    // Few requests however many appliances (10,000: ~10 partition reads and ~100 transactions, not 20,000).
    const failed = await deps.appliances.addUsage(batch).catch(() => new Set(batch.keys()));
    const tenantsLast = new Map<string, number>();
    for (const [clientId, p] of batch) {
      if (failed.has(clientId)) {
        // Storage down: keep the counts for the next flush rather than lose them.
        merge(pending, clientId, p);
        continue;
      }
      merge(unaudited, clientId, p);
      deps.hours?.add(p.last, p.count);
      tenantsLast.set(p.tenantId, Math.max(tenantsLast.get(p.tenantId) ?? 0, p.last));
    }
    // A tenant's lastTokenAt that cannot be written now is written with its next tokens.
    if (tenantsLast.size > 0) await deps.tenants.advanceLastTokenAt(tenantsLast).catch(() => undefined);
    await deps.hours?.flush();
    const t = now();
    for (const [clientId, p] of unaudited) {
      if (!auditAll && t - p.first < auditIntervalMs) continue;
      try {
        await deps.audit.write({
          action: 'tokens.issued',
          tenantId: p.tenantId,
          actor: { kind: 'appliance', id: clientId },
          details: {
            clientId,
            count: p.count,
            from: new Date(p.first).toISOString(),
            to: new Date(p.last).toISOString(),
          },
        });
        unaudited.delete(clientId);
      } catch {
        // Kept for the next flush.
      }
    }
  };

  /** The current pending entry of an appliance, counting one token at `t`. */
  const count = (clientId: string, tenantId: string, t: number): Pending => {
    let p = pending.get(clientId);
    if (p) {
      p.count++;
      p.last = t;
    } else pending.set(clientId, (p = { tenantId, count: 1, first: t, last: t }));
    if (!timer) {
      timer = setInterval(
        () => void (flushing = flushing.then(() => flushOnce(false))),
        options.intervalMs ?? USAGE_FLUSH_INTERVAL_MS,
      );
      timer.unref();
    }
    return p;
  };

  return {
    record(clientId, tenantId) {
      count(clientId, tenantId, now());
    },
    counter(clientId, tenantId) {
      let held: Pending | undefined;
      let heldIn = -1;
      return () => {
        const t = now();
        if (held !== undefined && heldIn === generation) {
          held.count++;
          held.last = t;
        } else {
          held = count(clientId, tenantId, t);
          heldIn = generation;
        }
      };
    },
    flush() {
      flushing = flushing.then(() => flushOnce(true));
      return flushing;
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      flushing = flushing.then(() => flushOnce(true));
      await flushing;
    },
  };
}
