/**
 * Appliances, tenants and mailbox grants as the token endpoint needs them, from memory: the warm path does no I/O.
 *
 * With a change journal (src/directory/change-journal.ts), which every instance reads every 10 s, a cached
 * entry stays valid until the journal names it: a revocation written anywhere reaches every instance within
 * seconds, and the storage cost follows the number of changes, not of appliances. Whenever the journal has not
 * been read successfully for 45 s (or without one), entries age instead: younger than 30 s used as is, 30–60 s
 * used while one background read refreshes them, older than 60 s read again before use — so the 60 s bound
 * holds either way. Even with a healthy journal an entry is trusted for at most 15 min after its read began:
 * then it is read again behind the request, and before use after 15.5 min, so a change whose journal entry
 * was lost (a failed write that no retry repeated; the journal keeps entries for an hour) is still seen.
 * Unknown client ids are remembered too, so that made-up ids do not become a flood of reads.
 * Bounded: least recently used entries go.
 * @module
 */
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';
import type { Appliance, ApplianceStore } from '../appliances/appliance-store.js';
import type { GrantRef, MailboxGrant, MailboxGrantStore } from '../grants/grant-store.js';
import { grantKey, type ChangeJournal, type ChangeKind } from './change-journal.js';

export const FRESH_MS = 30_000;
/** How often at most a use moves an entry to the most recently used end (10,000 appliances: 1,000 moves a second). */
const TOUCH_GRANULARITY_MS = 10_000;
export const MAX_AGE_MS = 60_000;
export const JOURNAL_POLL_MS = 10_000;
/**
 * How long an entry the journal has not named is trusted without being read again: far
 * below the journal's retention, so a lost journal entry costs at most this long, and few reads (10,000
 * appliances in use: 11 reads a second).
 */
export const TRUSTED_FRESH_MS = 15 * 60_000;
/**
 * How long a handle's link to its grant is trusted: links never change, and a grant gone (offboarding) is named
 * by the journal and read again as its grant, so only memory bounds this.
 */
export const HANDLE_REF_TRUSTED_MS = 24 * 3_600_000;
/** The journal counts as read only if read this recently. */
const JOURNAL_HEALTHY_MS = 45_000;
/** Changes are re-read this far back, for rows written late or by an instance whose clock is behind. */
const JOURNAL_OVERLAP_MS = 30_000;
/** A change drops an entry loaded before it (plus this margin for clocks that differ between instances). */
const CLOCK_SKEW_MS = 5_000;

/** What `peek` answers when the entry would need a read before use. */
export const NOT_CACHED: unique symbol = Symbol('not cached');

export interface RecordDirectory {
  appliance(clientId: string): Promise<Appliance | undefined>;
  tenant(tenantId: string): Promise<TenantRecord | undefined>;
  /**
   * The warm path without a promise: what `appliance` / `tenant` would answer at once from memory (including
   * a remembered "no such entry"), or NOT_CACHED when they would have to read first.
   */
  peekAppliance(clientId: string): Appliance | undefined | typeof NOT_CACHED;
  peekTenant(tenantId: string): TenantRecord | undefined | typeof NOT_CACHED;
  /**
   * The entry kept now for an id, held so that the warm path can check it again without a lookup (over
   * 10,000 appliances each lookup is a few cache misses): its `peek` answers as `peekAppliance` /
   * `peekTenant` would while the entry is kept, and NOT_CACHED once it was replaced, dropped or evicted.
   * Undefined if nothing is kept for the id.
   */
  holdAppliance(clientId: string): DirectoryHold<Appliance> | undefined;
  holdTenant(tenantId: string): DirectoryHold<TenantRecord> | undefined;
  /**
   * The mailbox grant whose appliance handle this is (src/grants/grant-store.ts), from memory as appliances are:
   * a grant changed anywhere (revoked, re-authorised, its refresh token rotated) is named by the journal.
   */
  grantByHandle(handle: string): Promise<MailboxGrant | undefined>;
  /** `grantByHandle` without a promise: its answer from memory, or NOT_CACHED when it would read first. */
  peekGrantByHandle(handle: string): MailboxGrant | undefined | typeof NOT_CACHED;
  /** Forget a cached entry now (this instance), e.g. after a change made here; a grant by `grantKey`. */
  invalidate(kind: ChangeKind, id: string): void;
}

export interface DirectoryHold<T> {
  peek(): T | undefined | typeof NOT_CACHED;
}

export function createRecordDirectory(
  stores: { appliances: ApplianceStore; tenants: TenantStore; grants?: MailboxGrantStore },
  options: { maxEntries?: number; now?: () => number; journal?: ChangeJournal; pollMs?: number } = {},
): RecordDirectory & { pollJournal(): Promise<void> } {
  const now = options.now ?? Date.now;
  let journalReadAt = -Infinity;
  const trusted = () => options.journal !== undefined && now() - journalReadAt < JOURNAL_HEALTHY_MS;
  const max = options.maxEntries ?? 200_000;
  const appliances = new RevalidatingCache<Appliance>((id) => stores.appliances.get(id), max, now, trusted);
  const tenants = new RevalidatingCache<TenantRecord>((id) => stores.tenants.get(id), max, now, trusted);
  // A handle's link never changes (it goes only with its grant, which the journal names): trusted for a day.
  const grantRefs = new RevalidatingCache<GrantRef>(
    async (handle) => stores.grants?.handleRef(handle),
    max,
    now,
    trusted,
    HANDLE_REF_TRUSTED_MS,
  );
  const grants = new RevalidatingCache<MailboxGrant>(
    async (key) => {
      const slash = key.indexOf('/');
      return stores.grants?.get(key.slice(0, slash), key.slice(slash + 1));
    },
    max,
    now,
    trusted,
  );
  const caches = { appliance: appliances, tenant: tenants, grant: grants } as const;
  let cursor = new Date(now() - JOURNAL_OVERLAP_MS).toISOString();
  let timer: NodeJS.Timeout | undefined;

  const pollJournal = async () => {
    if (!options.journal) return;
    const startedAt = now();
    let from = cursor;
    let newest: string | undefined;
    // Page through a burst of changes (e.g. many appliances registered at once) until the end is seen.
    for (let page = 0; page < 50; page++) {
      const changes = await options.journal.read(from, 1000);
      for (const c of changes) caches[c.kind].deleteIfLoadedBefore(c.id, Date.parse(c.at) + CLOCK_SKEW_MS);
      newest = changes.at(-1)?.at ?? newest;
      if (changes.length < 1000) {
        journalReadAt = startedAt;
        break;
      }
      from = changes.at(-1)!.at;
    }
    // Next time, read again from a little before the newest change, against clock skew between instances.
    if (newest)
      cursor = new Date(Math.max(Date.parse(newest) - JOURNAL_OVERLAP_MS, Date.parse(cursor))).toISOString();
  };
  const startPolling = () => {
    if (timer || !options.journal) return;
    timer = setInterval(() => void pollJournal().catch(() => undefined), options.pollMs ?? JOURNAL_POLL_MS);
    timer.unref();
    void pollJournal().catch(() => undefined);
  };
  /** Every read of the directory starts the journal polling (once). */
  const polled =
    <R>(read: (id: string) => R) =>
    (id: string): R => {
      startPolling();
      return read(id);
    };
  return {
    appliance: polled((id) => appliances.get(id)),
    tenant: polled((id) => tenants.get(id)),
    peekAppliance: polled((id) => appliances.peek(id)),
    peekTenant: polled((id) => tenants.peek(id)),
    holdAppliance: polled((id) => appliances.hold(id)),
    holdTenant: polled((id) => tenants.hold(id)),
    grantByHandle: polled(async (handle) => {
      const ref = await grantRefs.get(handle);
      return ref ? grants.get(grantKey(ref.tenantId, ref.grantId)) : undefined;
    }),
    peekGrantByHandle: polled((handle) => {
      const ref = grantRefs.peek(handle);
      return ref === NOT_CACHED || ref === undefined ? ref : grants.peek(grantKey(ref.tenantId, ref.grantId));
    }),
    invalidate: (kind, id) => caches[kind].delete(id),
    pollJournal,
  };
}

interface Entry<T> {
  readonly id: string;
  value: T | undefined;
  at: number;
  /** When `touch` last moved it to the most recently used end. */
  touchedAt?: number;
  refreshing?: Promise<T | undefined>;
  /** Set when it stops being the entry kept for its id (replaced, deleted or evicted): holds then miss. */
  dropped?: boolean;
}

class Hold<T> implements DirectoryHold<T> {
  constructor(
    private readonly cache: RevalidatingCache<T>,
    private readonly entry: Entry<T>,
  ) {}

  peek(): T | undefined | typeof NOT_CACHED {
    return this.entry.dropped ? NOT_CACHED : this.cache.use(this.entry);
  }
}

class RevalidatingCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly load: (id: string) => Promise<T | undefined>,
    private readonly max: number,
    private readonly now: () => number,
    /** While true, a loaded entry is valid until deleted (the change journal deletes changed ones). */
    private readonly trusted: () => boolean = () => false,
    /** How long a trusted entry is used without a read. */
    private readonly trustedFreshMs = TRUSTED_FRESH_MS,
  ) {}

  /** The entry's value if it can be used without a read first (as `get` would answer at once), else NOT_CACHED. */
  peek(id: string): T | undefined | typeof NOT_CACHED {
    const entry = this.entries.get(id);
    return entry === undefined ? NOT_CACHED : this.use(entry);
  }

  hold(id: string): DirectoryHold<T> | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : new Hold(this, entry);
  }

  /** `peek` for an entry kept now. */
  use(entry: Entry<T>): T | undefined | typeof NOT_CACHED {
    if (entry.at === -Infinity) return NOT_CACHED;
    // Trusted (journal read lately): fresh for 15 min; otherwise for 30 s. Either way, then refreshed behind
    // the request for another 30 s, then read before use.
    const fresh = this.trusted() ? this.trustedFreshMs : FRESH_MS;
    const age = this.now() - entry.at;
    if (age < fresh) {
      this.touch(entry);
      return entry.value;
    }
    if (age < fresh + (MAX_AGE_MS - FRESH_MS)) {
      this.touch(entry);
      // Refresh behind the request; a failed refresh leaves the entry to age into a blocking read.
      this.refresh(entry).catch(() => undefined);
      return entry.value;
    }
    return NOT_CACHED;
  }

  get(id: string): Promise<T | undefined> {
    const known = this.peek(id);
    if (known !== NOT_CACHED) return Promise.resolve(known);
    // Concurrent misses share the one read through a placeholder entry that is always too old to use.
    let blocking = this.entries.get(id);
    if (!blocking) {
      blocking = { id, value: undefined, at: -Infinity };
      this.set(blocking);
    }
    return this.refresh(blocking);
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (entry) this.drop(entry);
  }

  /** Drops the entry unless it was loaded after `time` (then it already reflects that change). */
  deleteIfLoadedBefore(id: string, time: number): void {
    const entry = this.entries.get(id);
    if (entry && entry.at <= time) this.drop(entry);
  }

  private drop(entry: Entry<T>): void {
    entry.dropped = true;
    this.entries.delete(entry.id);
  }

  private refresh(entry: Entry<T>): Promise<T | undefined> {
    if (entry.refreshing) return entry.refreshing;
    // Stamped with the time the read started: a change journaled while the read was in flight may
    // not be in what it read, and the journal drops entries loaded before a change, so such a read must count
    // as loaded before it.
    const startedAt = this.now();
    entry.refreshing = this.load(entry.id).then(
      (value) => {
        // Dropped while the read was in flight (named by the journal, changed here, or evicted): what was
        // read may predate that change, so it answers the callers waiting for it but is not kept.
        if (!entry.dropped) this.set({ id: entry.id, value, at: startedAt });
        return value;
      },
      (err: unknown) => {
        entry.refreshing = undefined;
        throw err;
      },
    );
    return entry.refreshing;
  }

  private touch(entry: Entry<T>): void {
    // Map keeps insertion order: re-inserting makes this the most recently used. At most once per
    // TOUCH_GRANULARITY_MS per entry: the order of eviction stays right to within that time, and the warm
    // path mostly skips the re-insert (a delete and a set, cache misses over many appliances).
    const t = this.now();
    if (entry.touchedAt !== undefined && t - entry.touchedAt < TOUCH_GRANULARITY_MS) return;
    entry.touchedAt = t;
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
  }

  /** Keeps `entry` for its id, dropping the one kept before (if another) and the least recently used past the bound. */
  private set(entry: Entry<T>): void {
    const before = this.entries.get(entry.id);
    if (before !== undefined && before !== entry) this.drop(before);
    this.entries.set(entry.id, entry);
    while (this.entries.size > this.max) this.drop(this.entries.values().next().value!);
  }
}
