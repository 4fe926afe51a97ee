/**
 * A journal of changes to appliances, tenants and mailbox grants, so that every instance can drop its cached copies within
 * seconds of a change made anywhere, without re-reading every cached entry (SPEC.md: revocation everywhere
 * within 60 s; the warm path without I/O). Every write through a journaled store adds a row (table `changes`,
 * partition `change`, row key time-ordered); each instance reads the rows after its cursor every few seconds.
 * Storage cost follows the number of changes, not the number of appliances.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { TableStorage } from '../adapters/tables/port.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import type { MailboxGrant, MailboxGrantStore } from '../grants/grant-store.js';

export type ChangeKind = 'appliance' | 'tenant' | 'grant';

/** How a mailbox grant is named in the journal and the directory: `{tenant id}/{grant id}`. */
export const grantKey = (tenantId: string, grantId: string) => `${tenantId.toLowerCase()}/${grantId}`;

export interface Change {
  readonly kind: ChangeKind;
  readonly id: string;
  readonly at: string;
}

export interface ChangeJournal {
  record(kind: ChangeKind, id: string): Promise<void>;
  /** Changes recorded at or after `since` (an ISO time), oldest first, at most `limit`. */
  read(since: string, limit: number): Promise<Change[]>;
}

export function createChangeJournal(
  storage: TableStorage,
  now: () => Date = () => new Date(),
): ChangeJournal {
  const table = storage.table('changes');
  return {
    async record(kind, id) {
      const at = now().toISOString();
      await table.insert({
        partitionKey: 'change',
        rowKey: `${at}-${randomBytes(6).toString('hex')}`,
        kind,
        id,
        at,
      });
    },
    async read(since, limit) {
      const page = await table.query({
        partitionKey: 'change',
        rowKeyFrom: since,
        top: Math.min(limit, 1000),
      });
      return page.rows.map((r) => ({
        kind: r.kind === 'tenant' || r.kind === 'grant' ? r.kind : 'appliance',
        id: String(r.id),
        at: String(r.at),
      }));
    },
  };
}

/**
 * The appliance store, recording every change in the journal before it is written and again after.
 * Before: a journal entry that cannot be written fails the change, which is then not made, so a retry does it
 * all again; a change can never be in the table without its entry. After: an instance that read the row
 * between the two sees the second entry. A failure of either is the caller's (503), and a retry that finds
 * the change made journals it again (`revokeAppliance`). A new appliance is announced only before: no
 * instance can hold a copy of an id before it is handed out.
 */
export function journaledApplianceStore(store: ApplianceStore, journal: ChangeJournal): ApplianceStore {
  return {
    ...store,
    async create(a) {
      await journal.record('appliance', a.clientId);
      await store.create(a);
    },
    async update(a) {
      await journal.record('appliance', a.clientId);
      const updated = await store.update(a);
      await journal.record('appliance', a.clientId);
      return updated;
    },
  };
}

/** The tenant store, recording every change in the journal before it is written and again after (as above). */
export function journaledTenantStore(store: TenantStore, journal: ChangeJournal): TenantStore {
  return {
    ...store,
    async save(t) {
      await journal.record('tenant', t.tenantId.toLowerCase());
      await store.save(t);
      await journal.record('tenant', t.tenantId.toLowerCase());
    },
    async replace(t) {
      await journal.record('tenant', t.tenantId.toLowerCase());
      await store.replace(t);
      await journal.record('tenant', t.tenantId.toLowerCase());
    },
  };
}

/**
 * The mailbox grant store, journaled as above; `changed` is told of each grant written or deleted here (this
 * instance drops its copies at once rather than at its next journal read). Offboarding names every grant it
 * deletes, before and after.
 */
export function journaledGrantStore(
  store: MailboxGrantStore,
  journal: ChangeJournal,
  changed: (key: string, grant: MailboxGrant | undefined) => void = () => undefined,
): MailboxGrantStore {
  return {
    ...store,
    async create(g, code, device) {
      await journal.record('grant', grantKey(g.tenantId, g.id));
      await store.create(g, code, device);
    },
    async update(g) {
      const key = grantKey(g.tenantId, g.id);
      await journal.record('grant', key);
      const updated = await store.update(g);
      changed(key, updated);
      await journal.record('grant', key);
      return updated;
    },
    async deleteTenant(tenantId) {
      const keys: string[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await store.list(tenantId, {
          top: 1000,
          ...(continuationToken ? { continuationToken } : {}),
        });
        keys.push(...page.items.map((g) => grantKey(g.tenantId, g.id)));
        continuationToken = page.continuationToken;
      } while (continuationToken);
      for (const key of keys) await journal.record('grant', key);
      const deleted = await store.deleteTenant(tenantId);
      for (const key of keys) {
        changed(key, undefined);
        await journal.record('grant', key);
      }
      return deleted;
    },
  };
}
