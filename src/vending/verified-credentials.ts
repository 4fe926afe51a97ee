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
 *
 * Keyed by the credentials, not by the header that carried them: one client id and secret
 * have many `Authorization` spellings (the scheme's case, base64 padding and unused bits, percent-encoding,
 * the client id's case), and keyed by the raw header one valid secret sent in 10,000 spellings took 10,000
 * entries. The key is the SHA-256 of the credentials' one canonical spelling (`canonicalBasic`), so the
 * memory holds no secret in a form that could be read back, and at most one entry per valid secret. A
 * request in the canonical spelling — what a PBX, curl -u or a test script sends for a broker-issued secret
 * and a lower-case client id — is looked up by one SHA-256 of its header's base64 text; any other spelling
 * is parsed and its canonical spelling hashed (`rememberedClient`, src/vending/client-auth.ts).
 * @module
 */
import { hash } from 'node:crypto';
import type { DirectoryHold } from '../appliances/appliance-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import type { TokenHold } from '../tokens/token-cache-contract.js';

export interface VerifiedCredential {
  /**
   * The client id of the credentials, lower-cased as in the key: the client id as sent by a request in the
   * canonical spelling, for the `client_id` consistency rule.
   */
  readonly clientId: string;
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
  /** `key` is `credentialKey` of the credentials' canonical spelling. */
  get(key: string): VerifiedCredential | undefined;
  remember(key: string, credential: VerifiedCredential): void;
  forget(key: string): void;
  /** Entries held now (for tests: at most `maxEntries`, and one per valid secret whatever its spellings). */
  size(): number;
}

/**
 * The base64 text of the canonical `Authorization: Basic` value of a client id and secret (RFC 6749 §2.3.1:
 * each form-urlencoded, here with encodeURIComponent, joined by a colon, UTF-8, base64 with padding), the
 * client id lower-cased (the directory's lookup folds it too). encodeURIComponent leaves a broker-issued
 * secret (`cbs_` and base64url) and a lower-case GUID as they are, and encodes a colon, so one text names one
 * (client id, secret). Undefined for text encodeURIComponent refuses (a lone surrogate).
 */
export function canonicalBasic(clientId: string, secret: string): string | undefined {
  try {
    return Buffer.from(
      `${encodeURIComponent(clientId.toLowerCase())}:${encodeURIComponent(secret)}`,
      'utf8',
    ).toString('base64');
  } catch (err) {
    if (err instanceof URIError) return undefined;
    throw err;
  }
}

/** The map key of a canonical spelling: its SHA-256 (binary string output: the cheapest to make and hash). */
export function credentialKey(canonical: string): string {
  return hash('sha256', canonical, 'binary');
}

/** At most `maxEntries` (default 100,000: a PBX fleet with a secret each, plus rotations); oldest out first. */
export function createVerifiedCredentials(maxEntries = 100_000): VerifiedCredentials {
  const entries = new Map<string, VerifiedCredential>();
  return {
    get: (key) => entries.get(key),
    remember(key, credential) {
      entries.delete(key);
      entries.set(key, credential);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    forget: (key) => void entries.delete(key),
    size: () => entries.size,
  };
}
