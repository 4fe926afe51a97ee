/**
 * Appliance usage (issue 5, "Usage"): each vended token is counted in memory — no storage write per request —
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

export const USAGE_FLUSH_INTERVAL_MS = 60_000;
/** How often at most an appliance's counts become a `tokens.issued` audit entry (in the periodic flush). */
export const USAGE_AUDIT_INTERVAL_MS = 3_600_000;

export interface UsageRecorder {
  record(clientId: string, tenantId: string): void;
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
  deps: { appliances: ApplianceStore; tenants: TenantStore; audit: AuditLog },
  options: { intervalMs?: number; auditIntervalMs?: number; now?: () => number } = {},
): UsageRecorder {
  const now = options.now ?? Date.now;
  const auditIntervalMs = options.auditIntervalMs ?? USAGE_AUDIT_INTERVAL_MS;
  let pending = new Map<string, Pending>();
  /** Counts already written to the appliance rows but not yet audited, by client id. */
  const unaudited = new Map<string, Pending>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const merge = (into: Map<string, Pending>, clientId: string, p: Pending) => {
    const had = into.get(clientId);
    into.set(
      clientId,
      had
        ? {
            tenantId: p.tenantId,
            count: had.count + p.count,
            first: Math.min(had.first, p.first),
            last: Math.max(had.last, p.last),
          }
        : { ...p },
    );
  };

  const flushOnce = async (auditAll: boolean) => {
    const batch = pending;
    pending = new Map();
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
      tenantsLast.set(p.tenantId, Math.max(tenantsLast.get(p.tenantId) ?? 0, p.last));
    }
    // A tenant's lastTokenAt that cannot be written now is written with its next tokens.
    if (tenantsLast.size > 0) await deps.tenants.advanceLastTokenAt(tenantsLast).catch(() => undefined);
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

  return {
    record(clientId, tenantId) {
      const t = now();
      const p = pending.get(clientId);
      if (p) {
        p.count++;
        p.last = t;
      } else pending.set(clientId, { tenantId, count: 1, first: t, last: t });
      if (!timer) {
        timer = setInterval(
          () => void (flushing = flushing.then(() => flushOnce(false))),
          options.intervalMs ?? USAGE_FLUSH_INTERVAL_MS,
        );
        timer.unref();
      }
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
