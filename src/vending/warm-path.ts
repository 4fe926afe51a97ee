/**
 * The token endpoint's warm path: everything the broker keeps in memory so that a PBX asking again for a token
 * it was given before is answered without I/O and without a promise. This module holds all of it; nothing
 * else in the broker keeps a memo for the token endpoint's sake.
 *
 * The contract. The warm path changes how fast an answer comes, never what it is:
 * - It answers only where the full grant (src/vending/issue.ts `issueToken`) would answer at that moment,
 *   with the same token, scope, `expires_in` and usage count; every refusal is left to the full grant, which
 *   names its reason. test/vending/issue.test.ts holds the two side by side in every state.
 * - Both run the one list of named steps in src/vending/issue.ts (`GRANT_STEPS`); the warm path runs each
 *   step's `fromMemory` form, and gives way at the first step whose input is not in memory.
 * - A memo stands in only for work whose every input is identical (the same object, or the same bytes),
 *   and an entry goes when what it vouches for changes.
 * - Nothing here holds a secret in a form that could be read back, and every memo is bounded.
 *
 * What is kept:
 * 1. Verified Basic credentials (`VerifiedCredentials`, one per broker): the keyed hash of a client secret is
 *    computed once, not per request. An entry vouches for a request only while the directory answers with
 *    the very appliance record the secret was verified against (a rotation, revocation, re-binding or any
 *    other change loads a new record, and a revocation seen through the change journal removes it), and the
 *    matched secret is still within its validity (a rotated-out secret's grace period ends on time). Keyed by
 *    the SHA-256 of the credentials' one canonical spelling (`canonicalBasic`), not by the header: one client
 *    id and secret have many `Authorization` spellings (the scheme's case, base64 padding and unused bits,
 *    percent-encoding, the client id's case), and a header-keyed memo took one entry per spelling. A request
 *    in the canonical spelling — what a PBX, curl -u or a test script sends for a broker-issued secret and a
 *    lower-case client id — is looked up by one SHA-256 of its header's base64 text; any other spelling is
 *    parsed and its canonical spelling hashed (`rememberedClient`, src/vending/client-auth.ts).
 * 2. The outcome of the grant's checks for one body and path (`WarmVend`, with the credentials): the steps
 *    between client authentication and the token are pure functions of the request body, the path's tenant,
 *    the appliance record and the tenant record (and the broker's profiles, fixed at start), so while the
 *    request's parsed body is the same object, its path the same text, the appliance the remembered record
 *    and the held tenant entry answers with the record the checks passed on, they would pass again.
 * 3. Parsed request bodies (`tokenForm`): a PBX sends the same few bytes each time. Only bodies with no
 *    credential in them (a client_secret_post secret or an assertion stays in memory no longer than its
 *    request); at most 256, emptied when full, so that a stream of made-up bodies costs a parse each and no
 *    memory. Returning the same object for the same bytes is what lets item 2 compare bodies by identity.
 * 4. Whether each access token can go into the JSON answer as it is (`tokenResponseBody`): a JWT is base64url
 *    and dots, nothing JSON must escape; decided once per token object, and an entry goes with its token.
 *
 * Figures for each of these are in docs/performance.md and `npm run bench`.
 * @module
 */
import { hash } from 'node:crypto';
import type { DirectoryHold } from '../directory/record-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import type { TokenHold, VendedToken } from './token-cache-contract.js';

// ---- 1. Verified Basic credentials ----------------------------------------------------------------------

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
  /** What the warm path last answered these credentials with (`replayWarm`). */
  warm?: WarmVend | undefined;
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

// ---- 2. The outcome of the grant's checks ---------------------------------------------------------------

/** What the checks of one body and path passed on, with the entries they read held. */
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

/**
 * The token and scope of a request whose checks passed before on the very same inputs (see item 2), its
 * usage counted; undefined (and the outcome dropped) otherwise, and then the checks run again.
 */
export function replayWarm(
  verified: VerifiedCredential,
  form: ReadonlyMap<string, string>,
  pathTenant: string | undefined,
): { token: VendedToken; scope: string } | undefined {
  const warm = verified.warm;
  if (warm === undefined) return undefined;
  if (warm.form === form && warm.pathTenant === pathTenant && warm.tenantHold.peek() === warm.tenant) {
    const token = warm.token.peek();
    if (token !== undefined) {
      warm.count();
      return { token, scope: warm.scope };
    }
  }
  verified.warm = undefined;
  return undefined;
}

/** Keeps the outcome of passed checks with the credentials, when the entries they read can be held. */
export function keepWarm(
  verified: VerifiedCredential,
  outcome: Omit<WarmVend, 'tenantHold' | 'token'>,
  holds: { tenant: DirectoryHold<TenantRecord> | undefined; token: TokenHold | undefined },
): void {
  if (holds.tenant === undefined || holds.token === undefined) return;
  verified.warm = { ...outcome, tenantHold: holds.tenant, token: holds.token };
}

// ---- 3. Parsed request bodies -----------------------------------------------------------------------------

const parsedForms = new Map<string, ReadonlyMap<string, string>>();
const MAX_PARSED_FORMS = 256;
const MAX_KEPT_BODY = 1024;

/**
 * The parsed token request body: the one parsed before for the same bytes, if there is one and `sameRules`
 * (the body's content type allows it), else `parse(text)` — kept for next time when it holds no credential.
 */
export function tokenForm(
  text: string,
  sameRules: boolean,
  parse: (text: string) => ReadonlyMap<string, string>,
): ReadonlyMap<string, string> {
  const known = parsedForms.get(text);
  if (known !== undefined && sameRules) return known;
  const form = parse(text);
  if (!form.has('client_secret') && !form.has('client_assertion') && text.length <= MAX_KEPT_BODY) {
    if (parsedForms.size >= MAX_PARSED_FORMS) parsedForms.clear();
    parsedForms.set(text, form);
  }
  return form;
}

/** How many bodies `tokenForm` keeps now (for tests: a body with a credential is never kept). */
export function tokenBodiesInMemory(): number {
  return parsedForms.size;
}

// ---- 4. The answer's JSON ---------------------------------------------------------------------------------

const tokenJson = new WeakMap<object, string | true>();
const JSON_SAFE = /^[\w.~+/=-]*$/;

/** The RFC 6749 §5.1 body of a vended token, exactly `JSON.stringify` of src/vending/issue.ts `tokenResponse`. */
export function tokenResponseBody(
  v: { token: VendedToken; expiresIn: number; scope: string },
  /** A mailbox grant's broker handle (base64url: no escaping), answered as `refresh_token`. */
  refreshToken?: string,
): string {
  let known = tokenJson.get(v.token);
  if (known === undefined) {
    known = JSON_SAFE.test(v.token.accessToken) ? true : JSON.stringify(v.token.accessToken);
    tokenJson.set(v.token, known);
  }
  // Concatenating the token text (rather than keeping an escaped copy) costs no memory per cached token.
  const accessToken = known === true ? `"${v.token.accessToken}"` : known;
  const scope = JSON.stringify(v.scope);
  return refreshToken === undefined
    ? `{"token_type":"Bearer","access_token":${accessToken},"expires_in":${v.expiresIn},"scope":${scope}}`
    : `{"token_type":"Bearer","access_token":${accessToken},"expires_in":${v.expiresIn},"scope":${scope},"refresh_token":"${refreshToken}"}`;
}
