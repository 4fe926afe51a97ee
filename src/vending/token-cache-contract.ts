/**
 * What the token cache (src/vending/token-cache.ts) promises its callers: the tokens it vends, the holds the
 * warm path keeps, its statistics, its options, and `TokenUnavailable` (Entra down and nothing cached: the
 * endpoint answers 503 with its Retry-After, src/http/outage.ts).
 * @module
 */
import type { EntraRefused, EntraTokens } from '../adapters/entra/port.js';

/** What the cache vends: the Microsoft access token and when it expires. Shared between callers: do not mutate. */
export interface VendedToken {
  readonly accessToken: string;
  readonly expiresOn: Date;
}

export interface TokenHold {
  peek(): VendedToken | undefined;
}

export interface TokenCacheStats {
  /** `acquireAppToken` calls made (foreground and background). */
  readonly entraRequests: number;
  /** Calls answered from memory (`get` and `peek`). */
  readonly hits: number;
  /** `get` calls that found no vendable token (`peek` misses are not counted: the caller then calls `get`). */
  readonly misses: number;
  readonly size: number;
  readonly maxEntries: number;
}

/**
 * What a token for (tenant, scope) should carry while the tenant's consent may still be replicating: the role
 * values its profiles need there, and until when (ms, wall clock) a token lacking one is taken for replication.
 */
export interface TokenExpectation {
  readonly roles: readonly string[];
  readonly untilMs: number;
}

export interface TokenCache {
  /**
   * The Microsoft token for (tenantId, scope): from memory when it has ≥ minLifetime left, else from Entra.
   * `expect`, when given, is kept for the entry's later fetches (background refreshes included); a token
   * fetched before `expect.untilMs` that lacks one of `expect.roles` is kept only briefly.
   */
  get(tenantId: string, scope: string, expect?: TokenExpectation): Promise<VendedToken>;
  /** The warm path without a promise: the cached token if it has ≥ minLifetime left, else undefined. */
  peek(tenantId: string, scope: string): VendedToken | undefined;
  /**
   * The entry kept for (tenantId, scope), held so that its `peek` answers as `peek` would without a lookup
   * (over 10,000 tenants a lookup is a few cache misses) — undefined once the entry is evicted or dropped (a
   * refreshed token stays in the same entry). Undefined if nothing is kept for it.
   */
  hold(tenantId: string, scope: string): TokenHold | undefined;
  /** Drops what is cached for a tenant, all scopes (consent revoked, tenant offboarded). */
  forgetTenant(tenantId: string): void;
  stats(): TokenCacheStats;
  /** Drops everything and settles pending waits; later calls get `TokenUnavailable`. */
  close(): void;
}

export interface TokenCacheOptions {
  readonly entra: EntraTokens;
  /** Bound on cached (tenant, scope) entries. Default 100,000 (docs/decisions.md "Memory bounds"). */
  readonly maxEntries?: number;
  /** Never vend a token with less left than this. Default 300: less than 5 minutes left is never vended. */
  readonly minLifetimeSeconds?: number;
  /** A hit with less left than this starts a background refresh. Default 600. */
  readonly refreshAheadSeconds?: number;
  /** The longest a caller waits for Entra. Default 5,000 (SPEC.md "Guarantees"). */
  readonly unavailableDeadlineMs?: number;
  /** How long an Entra refusal is answered from memory. Default 5; 0 disables. */
  readonly refusalTtlSeconds?: number;
  /** How long a token lacking an expected role is kept while its consent replicates. Default 60. */
  readonly replicatingKeepSeconds?: number;
  /** Called when a background refresh is refused (e.g. AADSTS7000229: consent removed). Must not throw. */
  readonly onRefreshRefused?: (tenantId: string, scope: string, error: EntraRefused) => void;
  /** Wall clock in ms (token expiry is wall-clock time). Default `Date.now`. */
  readonly now?: () => number;
}

/** Entra cannot give a token now and none is cached: the endpoint answers 503 with this Retry-After (SPEC.md). */
export class TokenUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Microsoft Entra ID is unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
