/**
 * Basic credentials this instance has already verified, so that the token endpoint's warm path does not
 * recompute the keyed hash of the same client secret on every request (it was the largest piece of the
 * broker's own work per token, bench/). Held in this process's memory only — never written to a table, a log
 * or an error — and bounded.
 *
 * An entry vouches for a request only while it would still pass the full check: the directory must answer
 * with the very appliance record the secret was verified against (a rotation, revocation, re-binding or any
 * other change loads a new record, and a revocation seen through the change journal removes it), and the
 * matched secret must still be within its validity (a rotated-out secret's grace period ends on time).
 * @module
 */
import type { DirectoryHold } from '../appliances/appliance-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import type { TokenHold } from '../tokens/token-cache.js';

export interface VerifiedCredential {
  /** The client id as sent in the credentials (before case folding), for the `client_id` consistency rule. */
  readonly clientIdAsSent: string;
  /** The appliance record the secret was verified against. */
  readonly appliance: Appliance;
  /** When the matched secret stops being valid (ms since the epoch; Infinity for the current secret). */
  readonly validUntil: number;
  /** The directory's entry of that appliance, held to check it again without a lookup. */
  readonly held?: DirectoryHold<Appliance> | undefined;
  /** What the warm path last answered these credentials with (src/vending/issue.ts `vendFromMemory`). */
  warm?: WarmVend | undefined;
}

/**
 * The outcome of the warm path's checks for one request body and path, with the entries they read held, so
 * that the next request with the same body (the very parsed form, src/http/token-endpoint.ts) and path is
 * answered by comparing identities instead of running the checks and lookups again: over 10,000 appliances
 * each lookup and each record read is a cache miss (bench/). Valid while the held tenant entry answers with
 * the very record the checks passed on; the appliance is the one `rememberedClient` vouches for.
 */
export interface WarmVend {
  readonly form: ReadonlyMap<string, string>;
  readonly pathTenant: string | undefined;
  /** The directory's entry of the bound tenant, and the record the checks passed on. */
  readonly tenantHold: DirectoryHold<TenantRecord>;
  readonly tenant: TenantRecord;
  readonly scope: string;
  /** The token cache's entry of (tenantId, scope): its `peek` answers as the cache's `peek` would. */
  readonly token: TokenHold;
  /** Counts a token of this appliance for the usage records (src/appliances/usage.ts `counter`). */
  readonly count: () => void;
}

export interface VerifiedCredentials {
  get(authorization: string): VerifiedCredential | undefined;
  remember(authorization: string, credential: VerifiedCredential): void;
  forget(authorization: string): void;
}

/** At most `maxEntries` (default 100,000: a PBX fleet with a secret each, plus rotations); oldest out first. */
export function createVerifiedCredentials(maxEntries = 100_000): VerifiedCredentials {
  const entries = new Map<string, VerifiedCredential>();
  return {
    get: (authorization) => entries.get(authorization),
    remember(authorization, credential) {
      entries.delete(authorization);
      entries.set(authorization, credential);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    forget: (authorization) => void entries.delete(authorization),
  };
}
