/**
 * Who did what when (SPEC.md `GET /api/audit`): consents, verifications, refused attempts, appliance and
 * support actions. Rows in the `audit` table, partitioned by tenant (or `broker` for entries without one),
 * keyed by time so that a partition reads in order. Entries carry ids and names, never a secret or token.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { TableStorage } from '../adapters/tables/port.js';

export interface AuditActor {
  readonly kind: 'staff' | 'admin' | 'appliance' | 'system' | 'anonymous';
  /** An object id, client id or "broker"; never a credential. */
  readonly id: string;
  readonly name?: string;
}

export interface AuditEntry {
  readonly at: string;
  readonly action: string;
  readonly tenantId: string | null;
  readonly actor: AuditActor;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditLog {
  write(entry: Omit<AuditEntry, 'at'> & { at?: Date }): Promise<void>;
  /** Entries of a tenant (or of the broker when `tenantId` is null) from `since` on, oldest first. */
  list(query: { tenantId: string | null; since?: Date; top: number; continuationToken?: string }): Promise<{
    items: AuditEntry[];
    continuationToken?: string;
  }>;
}

const BROKER_PARTITION = 'broker';

export function createAuditLog(storage: TableStorage, now: () => Date = () => new Date()): AuditLog {
  const table = storage.table('audit');
  return {
    async write(entry) {
      const at = (entry.at ?? now()).toISOString();
      await table.insert({
        partitionKey: entry.tenantId ?? BROKER_PARTITION,
        // ISO time sorts lexically; the random tail keeps two entries of one millisecond apart.
        rowKey: `${at}-${randomBytes(6).toString('hex')}`,
        at,
        action: entry.action,
        actor: JSON.stringify(entry.actor),
        details: JSON.stringify(entry.details),
      });
    },
    async list({ tenantId, since, top, continuationToken }) {
      const page = await table.query({
        partitionKey: tenantId ?? BROKER_PARTITION,
        rowKeyFrom: since?.toISOString(),
        top,
        continuationToken,
      });
      const items = page.rows.map((r) => ({
        at: String(r.at),
        action: String(r.action),
        tenantId,
        actor: JSON.parse(String(r.actor)) as AuditActor,
        details: JSON.parse(String(r.details)) as Record<string, unknown>,
      }));
      return page.continuationToken ? { items, continuationToken: page.continuationToken } : { items };
    },
  };
}
