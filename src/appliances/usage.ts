/**
 * Appliance usage (issue 5, "Usage"): each vended token is counted in memory — no storage write per request —
 * and the counts are flushed periodically: the appliance's `lastSeenAt` and `tokenCount`, the tenant's
 * `lastTokenAt`, and one aggregated audit entry per appliance and flush (`tokens.issued`). Every instance
 * flushes its own counts on its own interval (a Functions timer runs on one instance only, so it could not
 * see the others' counters).
 * @module
 */
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { ApplianceStore } from './appliance-store.js';

export const USAGE_FLUSH_INTERVAL_MS = 60_000;

export interface UsageRecorder {
  record(clientId: string, tenantId: string): void;
  /** Writes what was counted since the last flush; counts that fail to write are kept for the next one. */
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
  options: { intervalMs?: number; now?: () => number } = {},
): UsageRecorder {
  const now = options.now ?? Date.now;
  let pending = new Map<string, Pending>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const flushOnce = async () => {
    const batch = pending;
    pending = new Map();
    const tenantsLast = new Map<string, number>();
    for (const [clientId, p] of batch) {
      try {
        await addToAppliance(deps.appliances, clientId, p);
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
        tenantsLast.set(p.tenantId, Math.max(tenantsLast.get(p.tenantId) ?? 0, p.last));
      } catch {
        // Storage down: keep the counts for the next flush rather than lose them.
        const again = pending.get(clientId);
        pending.set(clientId, again ? { ...p, count: p.count + again.count, last: again.last } : p);
      }
    }
    for (const [tenantId, last] of tenantsLast)
      await touchTenant(deps.tenants, tenantId, last).catch(() => undefined);
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
          () => void (flushing = flushing.then(flushOnce)),
          options.intervalMs ?? USAGE_FLUSH_INTERVAL_MS,
        );
        timer.unref();
      }
    },
    flush() {
      flushing = flushing.then(flushOnce);
      return flushing;
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      flushing = flushing.then(flushOnce);
      await flushing;
    },
  };
}

async function addToAppliance(store: ApplianceStore, clientId: string, p: Pending): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const appliance = await store.get(clientId);
    if (!appliance) return;
    const lastSeen = Math.max(p.last, appliance.lastSeenAt ? Date.parse(appliance.lastSeenAt) : 0);
    try {
      await store.update({
        ...appliance,
        lastSeenAt: new Date(lastSeen).toISOString(),
        tokenCount: appliance.tokenCount + p.count,
      });
      return;
    } catch (err) {
      if (!(err instanceof RowChanged)) throw err;
    }
  }
  throw new RowChanged();
}

async function touchTenant(store: TenantStore, tenantId: string, last: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const tenant = await store.get(tenantId);
    if (!tenant || (tenant.lastTokenAt && Date.parse(tenant.lastTokenAt) >= last)) return;
    try {
      await store.replace({ ...tenant, lastTokenAt: new Date(last).toISOString() });
      return;
    } catch (err) {
      if (!(err instanceof RowChanged)) throw err;
    }
  }
}
