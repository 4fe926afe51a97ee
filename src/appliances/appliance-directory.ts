/**
 * Appliances and tenants as the token endpoint needs them, from memory: the warm path does no I/O
 * (issue 5). An entry younger than 30 s is used as is; between 30 s and 60 s it is used while one background
 * read refreshes it; older than 60 s it is read again before use — so a revocation written anywhere takes
 * effect on every instance within 60 s. Unknown client ids are remembered briefly too, so that a flood of
 * made-up ids does not turn into a flood of Table Storage reads. Bounded: least recently used entries go.
 * @module
 */
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';
import type { Appliance, ApplianceStore } from './appliance-store.js';

export const FRESH_MS = 30_000;
export const MAX_AGE_MS = 60_000;

export interface ApplianceDirectory {
  appliance(clientId: string): Promise<Appliance | undefined>;
  tenant(tenantId: string): Promise<TenantRecord | undefined>;
  /** Forget a cached entry now (this instance), e.g. after a change made here. */
  invalidate(kind: 'appliance' | 'tenant', id: string): void;
}

export function createApplianceDirectory(
  stores: { appliances: ApplianceStore; tenants: TenantStore },
  options: { maxEntries?: number; now?: () => number } = {},
): ApplianceDirectory {
  const now = options.now ?? Date.now;
  const appliances = new RevalidatingCache<Appliance>(
    (id) => stores.appliances.get(id),
    options.maxEntries ?? 200_000,
    now,
  );
  const tenants = new RevalidatingCache<TenantRecord>(
    (id) => stores.tenants.get(id),
    options.maxEntries ?? 200_000,
    now,
  );
  return {
    appliance: (id) => appliances.get(id),
    tenant: (id) => tenants.get(id),
    invalidate: (kind, id) => (kind === 'appliance' ? appliances : tenants).delete(id),
  };
}

interface Entry<T> {
  value: T | undefined;
  at: number;
  refreshing?: Promise<T | undefined>;
}

class RevalidatingCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly load: (id: string) => Promise<T | undefined>,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get(id: string): Promise<T | undefined> {
    const entry = this.entries.get(id);
    const age = entry ? this.now() - entry.at : Infinity;
    if (entry && age < FRESH_MS) {
      this.touch(id, entry);
      return Promise.resolve(entry.value);
    }
    if (entry && age < MAX_AGE_MS) {
      this.touch(id, entry);
      // Refresh behind the request; a failed refresh leaves the entry to age into a blocking read.
      this.refresh(id, entry).catch(() => undefined);
      return Promise.resolve(entry.value);
    }
    // Concurrent misses share the one read through a placeholder entry that is always too old to use.
    let blocking = entry;
    if (!blocking) {
      blocking = { value: undefined, at: -Infinity };
      this.set(id, blocking);
    }
    return this.refresh(id, blocking);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  private refresh(id: string, entry: Entry<T>): Promise<T | undefined> {
    entry.refreshing ??= this.load(id).then(
      (value) => {
        this.set(id, { value, at: this.now() });
        return value;
      },
      (err: unknown) => {
        entry.refreshing = undefined;
        throw err;
      },
    );
    return entry.refreshing;
  }

  private touch(id: string, entry: Entry<T>): void {
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.entries.delete(id);
    this.entries.set(id, entry);
  }

  private set(id: string, entry: Entry<T>): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
