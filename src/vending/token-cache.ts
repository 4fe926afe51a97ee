/**
 * The broker's cache of Microsoft app-only tokens, one per (tenant, resource scope), on the `EntraTokens`
 * port. It is what makes token vending cheap and safe (SPEC.md "Guarantees": "The same token
 * for the same tenant and resource is fetched from Microsoft once, however many appliances ask at once, and
 * reused until near its expiry"):
 *
 * - Warm path: `peek` (synchronous) and `get` answer from memory. `get` hands back a promise created once
 *   when the token was stored, so a hit allocates nothing and does no I/O: two Map lookups, a clock read and,
 *   at most once per 10 s per entry, four pointer writes to mark it most recently used.
 * - Single flight: one Entra request at a time per (tenant, scope); every caller that misses meanwhile joins it.
 * - A token with less than `minLifetimeSeconds` (5 min) left is never vended (README, "Sandbox: a PBX gets tokens"). A hit that
 *   finds less than `refreshAheadSeconds` (10 min) left starts one background refresh with `fresh: true`
 *   (for a token issued for less than 15 minutes: halfway through its vendable life); callers keep the
 *   still-valid token meanwhile. Refresh is driven by hits, not timers: an idle tenant
 *   costs no Entra traffic (100,000 tenants refreshed by timers would be ~30 requests/s for nobody).
 * - Entra 429/5xx (`EntraUnavailable`): no request for that (tenant, scope) until its Retry-After has passed;
 *   a valid cached token is served meanwhile, otherwise `TokenUnavailable` (503 + Retry-After, SPEC.md).
 * - Entra hanging: a caller waits at most `unavailableDeadlineMs` (5 s: 503 with Retry-After
 *   within 5 s, never a hang; README, SPEC.md "Guarantees"). The request itself is left to the adapter's own timeout and is
 *   not repeated while it is outstanding; its token is kept if it still arrives.
 * - `EntraRefused` (AADSTS7000229 consent removed, 700016 not replicated, 7000215 bad credential…) reaches
 *   the caller unchanged so the endpoint can name the cause. It is remembered for `refusalTtlSeconds`
 *   (default 5 s): a fleet of PBXs retrying for a revoked tenant then costs Entra one request per 5 s instead
 *   of one per request (Entra's throttling is per app, so hammering it for one tenant would hurt all tenants),
 *   while a consent granted again is picked up within seconds (and at once after `forgetTenant`).
 *   A refusal met by a background refresh does not drop the token still cached: it is a valid Microsoft token
 *   until it expires, and revocation is the tenant domain's call. It is reported through `onRefreshRefused`
 *   so the broker can mark the tenant and call `forgetTenant`.
 * - Replication in parts: right after a consent Entra may issue tokens that lack some of the
 *   granted roles (src/consent/proof.ts, REPLICATION_WINDOW_SECONDS). A caller may say which roles a token for
 *   (tenant, scope) should carry and until when a lack is replication (`TokenExpectation`); a token fetched
 *   before then that lacks one is kept only `replicatingKeepSeconds` (60 s) and refreshed after half of that,
 *   not for its full lifetime: the next token, once the roles have replicated, carries them.
 *
 * Memory bound: at most `maxEntries` (tenant, scope) entries (default 100,000), least recently used evicted
 * first; an entry is its access token string and a few small objects (what each costs, and the budget,
 * in docs/performance.md; test/vending/token-cache-memory.test.ts holds the bound). Evicting an entry
 * detaches it: a request in flight for it still answers its callers but writes nothing back.
 *
 * No secret or token is put in any error message (SPEC.md Guarantees); this module logs nothing.
 * @module
 */
import { EntraRefused, EntraUnavailable, type AppToken } from '../adapters/entra/port.js';
import {
  TokenUnavailable,
  type TokenCache,
  type TokenCacheOptions,
  type TokenExpectation,
  type VendedToken,
} from './token-cache-contract.js';

/** How often at most a hit moves an entry in the LRU list (`touch`). */
const TOUCH_GRANULARITY_MS = 10_000;

/** Retry-After when Entra did not answer in time, or failed in a way that carries none. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** A request outstanding this long is abandoned and may be replaced, in case an adapter never settles. */
const ABANDON_FLIGHT_MS = 60_000;

interface Flight {
  readonly promise: Promise<VendedToken>;
  readonly startedAt: number;
}

/** A caller-facing wait on a flight, shared by every caller that joined before its deadline. */
interface Waiter {
  readonly promise: Promise<VendedToken>;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly reject: (err: Error) => void;
}

/** One (tenant, scope): its token, what is under way for it, and its place in the LRU list. */
class Entry {
  token: VendedToken | undefined = undefined;
  /** Vendable until (ms): expiry less the minimum lifetime. Read on every hit. */
  vendUntil = 0;
  /** A hit from this time (ms) on starts a background refresh. */
  refreshAt = 0;
  /** `Promise.resolve(token)`, made once so that a hit allocates nothing. */
  resolved: Promise<VendedToken> | undefined = undefined;
  flight: Flight | undefined = undefined;
  waiter: Waiter | undefined = undefined;
  /** No Entra request before this time (Retry-After), ms. */
  backoffUntil = 0;
  refusal: EntraRefused | undefined = undefined;
  refusalUntil = 0;
  /** The roles its tokens should carry while the consent replicates (the last caller's `expect`). */
  expect: TokenExpectation | undefined = undefined;
  /** Evicted, forgotten or closed: whatever is still under way for it must not write back. */
  detached = false;
  /** When a hit last moved it to the newest end of the LRU list (ms). */
  touchedAt = -Infinity;
  newer: Entry | undefined = undefined;
  older: Entry | undefined = undefined;

  constructor(
    readonly tenantId: string,
    readonly scope: string,
  ) {}
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const entra = options.entra;
  const maxEntries = options.maxEntries ?? 100_000;
  const minLifetimeMs = (options.minLifetimeSeconds ?? 300) * 1000;
  const refreshAheadMs = Math.max((options.refreshAheadSeconds ?? 600) * 1000, minLifetimeMs);
  const deadlineMs = options.unavailableDeadlineMs ?? 5_000;
  const refusalTtlMs = (options.refusalTtlSeconds ?? 5) * 1000;
  const replicatingKeepMs = (options.replicatingKeepSeconds ?? 60) * 1000;
  const onRefreshRefused = options.onRefreshRefused;
  const now = options.now ?? (() => Date.now());
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be ≥ 1');

  /** scope → tenant id (lower case) → entry. Scopes are few (one per resource), tenants many. */
  const byScope = new Map<string, Map<string, Entry>>();
  /** LRU list: `newest` is the most recently used, `oldest` the next to evict. */
  let newest: Entry | undefined;
  let oldest: Entry | undefined;
  let size = 0;
  let entraRequests = 0;
  let hits = 0;
  let misses = 0;
  let closed = false;

  function lookup(tenantId: string, scope: string): Entry | undefined {
    const tenants = byScope.get(scope);
    if (tenants === undefined) return undefined;
    // Tenant ids are case-insensitive (GUIDs, domain names); entries are kept under the lower-case id, so
    // the usual caller, passing the id as recorded, finds it with one lookup.
    return tenants.get(tenantId) ?? tenants.get(tenantId.toLowerCase());
  }

  function unlink(e: Entry): void {
    if (e.newer) e.newer.older = e.older;
    else newest = e.older;
    if (e.older) e.older.newer = e.newer;
    else oldest = e.newer;
    e.newer = e.older = undefined;
  }

  function pushNewest(e: Entry): void {
    e.older = newest;
    e.newer = undefined;
    if (newest) newest.newer = e;
    else oldest = e;
    newest = e;
  }

  /**
   * Marks a hit in the LRU list at most once per TOUCH_GRANULARITY_MS per entry: moving an entry writes to
   * its two neighbours, which over 10,000 tenants are cache misses on every request; the eviction order
   * stays right to within that time.
   */
  function touch(e: Entry, t: number): void {
    if (e === newest || t - e.touchedAt < TOUCH_GRANULARITY_MS) return;
    e.touchedAt = t;
    unlink(e);
    pushNewest(e);
  }

  function remove(e: Entry): void {
    const tenants = byScope.get(e.scope);
    if (tenants?.get(e.tenantId) === e) {
      tenants.delete(e.tenantId);
      if (tenants.size === 0) byScope.delete(e.scope);
    }
    unlink(e);
    size -= 1;
    e.detached = true;
    // Cancel what is attached: the flight's result is ignored; callers waiting keep their own deadline.
    e.flight = undefined;
  }

  function create(tenantId: string, scope: string): Entry {
    const e = new Entry(tenantId.toLowerCase(), scope);
    let tenants = byScope.get(scope);
    if (tenants === undefined) byScope.set(scope, (tenants = new Map()));
    tenants.set(e.tenantId, e);
    pushNewest(e);
    size += 1;
    while (size > maxEntries && oldest !== undefined) remove(oldest);
    return e;
  }

  /** The entry if it holds a token that may be vended now; starts a background refresh when due. */
  function warm(tenantId: string, scope: string): Entry | undefined {
    const e = lookup(tenantId, scope);
    return e === undefined ? undefined : warmEntry(e);
  }

  /** A hit on an entry (looked up or held): it if its token can be vended now, else undefined. */
  function warmEntry(e: Entry): Entry | undefined {
    if (e.detached || e.token === undefined) return undefined;
    const t = now();
    // A token with less than 5 minutes left is never vended (README).
    if (t > e.vendUntil) return undefined;
    hits += 1;
    if (t >= e.refreshAt && e.flight === undefined && t >= e.backoffUntil && t >= e.refusalUntil)
      startFlight(e, t, true);
    touch(e, t);
    return e;
  }

  /**
   * Caches `token`, issued just before `t`. The refresh is due `refreshAheadSeconds` before expiry, or
   * halfway through the vendable life of a short-lived token (a token lifetime policy can make tokens as
   * short as 10 minutes): otherwise every hit on such a token would start a refresh.
   */
  function store(e: Entry, token: AppToken, t: number): VendedToken {
    const expiresAt = token.expiresOn.getTime();
    // Keep only what is vended: not the roles or ids of the AppToken.
    const vended: VendedToken = Object.freeze({ accessToken: token.accessToken, expiresOn: token.expiresOn });
    e.token = vended;
    e.vendUntil = expiresAt - minLifetimeMs;
    e.refreshAt = expiresAt - Math.min(refreshAheadMs, minLifetimeMs + (expiresAt - t - minLifetimeMs) / 2);
    const want = e.expect;
    if (want !== undefined && t < want.untilMs && !carriesAll(token.roles, want.roles)) {
      // Fetched while the consent replicates, without a role a profile needs. The roles may
      // reach the next token within minutes: keep this one briefly, and refresh it on a hit after half of that.
      e.vendUntil = Math.min(e.vendUntil, t + replicatingKeepMs);
      e.refreshAt = Math.min(e.refreshAt, t + replicatingKeepMs / 2);
    }
    e.resolved = Promise.resolve(vended);
    return vended;
  }

  /**
   * One Entra request for `e`. Always `fresh`: this cache is the token cache, and a miss here may follow
   * `forgetTenant` (consent revoked), after which MSAL's own cache must not answer.
   */
  function startFlight(e: Entry, t: number, background: boolean): Flight {
    entraRequests += 1;
    let promise: Promise<VendedToken>;
    try {
      promise = entra.acquireAppToken(e.tenantId, e.scope, { fresh: true }).then(
        (token) => settled(e, flight, token),
        (err: unknown) => failed(e, flight, err, background),
      );
    } catch (err) {
      // A port implementation that throws synchronously is treated like one that rejects.
      promise = Promise.resolve().then(() => failed(e, flight, err, background));
    }
    const flight: Flight = { promise, startedAt: t };
    e.flight = flight;
    // A background refresh has no caller to tell; its outcome is recorded on the entry (backoff, refusal).
    if (background) promise.catch(ignoreRecorded);
    return flight;
  }

  function settled(e: Entry, flight: Flight, token: AppToken): VendedToken {
    const current = e.flight === flight;
    if (current) e.flight = undefined;
    const t = now();
    if (token.expiresOn.getTime() - t < minLifetimeMs) {
      // Entra issues 60–90 minute tokens; one this short is unusable and not worth a retry now.
      if (!e.detached && e.flight === undefined) e.backoffUntil = t + DEFAULT_RETRY_AFTER_SECONDS * 1000;
      throw new TokenUnavailable(
        DEFAULT_RETRY_AFTER_SECONDS,
        'Microsoft Entra ID issued a short-lived token',
      );
    }
    // A detached entry stores nothing; an abandoned request's late token only if it outlives the cached one.
    if (
      e.detached ||
      (!current && e.token !== undefined && token.expiresOn.getTime() <= e.token.expiresOn.getTime())
    )
      return { accessToken: token.accessToken, expiresOn: token.expiresOn };
    e.backoffUntil = 0;
    e.refusal = undefined;
    e.refusalUntil = 0;
    // The stored object: cold and warm callers get the same one.
    return store(e, token, t);
  }

  function failed(e: Entry, flight: Flight, err: unknown, background: boolean): never {
    const current = e.flight === flight;
    if (current) e.flight = undefined;
    const t = now();
    if (err instanceof EntraRefused) {
      if (current && !e.detached) {
        e.refusal = err;
        e.refusalUntil = t + refusalTtlMs;
      }
      if (background && !e.detached) onRefreshRefused?.(e.tenantId, e.scope, err);
      throw err; // unchanged: the endpoint names the cause (SPEC.md, token endpoint errors)
    }
    // Entra's 429/5xx: back off, honouring Retry-After (docs/operations.md, Entra throttling). Anything else the port lets out
    // is not a refusal either; it gets a short pause rather than a 500.
    const retryAfter =
      err instanceof EntraUnavailable
        ? Math.max(1, Math.ceil(err.retryAfterSeconds))
        : DEFAULT_RETRY_AFTER_SECONDS;
    if (current && !e.detached) e.backoffUntil = Math.max(e.backoffUntil, t + retryAfter * 1000);
    throw new TokenUnavailable(retryAfter, 'Microsoft Entra ID is unavailable', { cause: err });
  }

  /** A caller's wait on the entry's flight: at most `deadlineMs`, shared with the callers that join it. */
  function wait(e: Entry, flight: Flight): Promise<VendedToken> {
    if (e.waiter !== undefined) return e.waiter.promise;
    let reject!: (err: Error) => void;
    let timer!: ReturnType<typeof setTimeout>;
    const promise = new Promise<VendedToken>((res, rej) => {
      reject = rej;
      timer = setTimeout(() => {
        if (e.waiter === waiter) e.waiter = undefined;
        // Never a hang (SPEC.md "Guarantees"). Entra gets no second request for this key while the first is out.
        if (!e.detached)
          e.backoffUntil = Math.max(e.backoffUntil, now() + DEFAULT_RETRY_AFTER_SECONDS * 1000);
        rej(new TokenUnavailable(DEFAULT_RETRY_AFTER_SECONDS, 'Microsoft Entra ID did not answer in time'));
      }, deadlineMs);
      timer.unref?.();
      flight.promise.then(
        (token) => {
          clearTimeout(timer);
          if (e.waiter === waiter) e.waiter = undefined;
          res(token);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (e.waiter === waiter) e.waiter = undefined;
          rej(err);
        },
      );
    });
    const waiter: Waiter = { promise, timer, reject };
    e.waiter = waiter;
    return promise;
  }

  function cold(tenantId: string, scope: string, expect: TokenExpectation | undefined): Promise<VendedToken> {
    misses += 1;
    if (closed)
      return Promise.reject(new TokenUnavailable(DEFAULT_RETRY_AFTER_SECONDS, 'Token cache closed'));
    const t = now();
    let e = lookup(tenantId, scope);
    if (e === undefined) e = create(tenantId, scope);
    else touch(e, t);
    if (expect !== undefined) e.expect = expect;
    if (e.refusal !== undefined && t < e.refusalUntil) return Promise.reject(e.refusal);
    // Backing off (Retry-After, or a request that outlived the deadline and is still out): answer at once.
    if (t < e.backoffUntil)
      return Promise.reject(new TokenUnavailable(Math.max(1, Math.ceil((e.backoffUntil - t) / 1000))));
    let flight = e.flight;
    if (flight !== undefined && t - flight.startedAt > ABANDON_FLIGHT_MS) flight = e.flight = undefined;
    return wait(e, flight ?? startFlight(e, t, false));
  }

  return {
    get(tenantId, scope, expect) {
      const e = warm(tenantId, scope);
      // `resolved` is set whenever `token` is.
      return e !== undefined ? e.resolved! : cold(tenantId, scope, expect);
    },

    peek(tenantId, scope) {
      return warm(tenantId, scope)?.token;
    },

    hold(tenantId, scope) {
      const e = lookup(tenantId, scope);
      return e === undefined ? undefined : { peek: () => warmEntry(e)?.token };
    },

    forgetTenant(tenantId) {
      const id = tenantId.toLowerCase();
      for (const tenants of [...byScope.values()]) {
        const e = tenants.get(id);
        if (e !== undefined) remove(e);
      }
    },

    stats() {
      return { entraRequests, hits, misses, size, maxEntries };
    },

    close() {
      closed = true;
      for (let e = newest; e !== undefined; e = newest) {
        const waiter = e.waiter;
        remove(e);
        if (waiter !== undefined) {
          clearTimeout(waiter.timer);
          e.waiter = undefined;
          waiter.reject(new TokenUnavailable(DEFAULT_RETRY_AFTER_SECONDS, 'Token cache closed'));
        }
      }
    },
  };
}

function carriesAll(roles: readonly string[], wanted: readonly string[]): boolean {
  for (const r of wanted) if (!roles.includes(r)) return false;
  return true;
}

function ignoreRecorded(): void {
  // The failure is already recorded on the entry (backoff or refusal) and reported by `onRefreshRefused`.
}
