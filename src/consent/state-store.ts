/**
 * The `state` of the consent redirect, of the sign-in that follows it and of the confirmation that binds an
 * appliance (SPEC.md `GET /connect/{code}/go`): 256 random bits, bound to its onboarding, to the browser that
 * asked for it, short-lived, and single-use even when several instances race — the use is an
 * insert-if-absent in Table Storage, which exactly one caller wins (STYLE.md: never read, then write). Only
 * the state's SHA-256 is stored, and only the SHA-256 of the browser's key: a table reader learns nothing to
 * replay. Table `states`.
 *
 * The browser binding is RFC 6749 §10.12 / RFC 9700 §4.7: a state carried to the callback by any other
 * browser (one that does not send the key the state was issued with) is refused before it is used, so a
 * victim sent to `/consent/callback?state=<the attacker's>` completes nothing, and the attacker's own
 * browser still cannot use it twice.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RowExists, type TableStorage } from '../adapters/tables/port.js';

/**
 * `grant`: a mailbox user's sign-in for a mailbox grant (src/grants/grant-sign-in.ts); `console`: a vendor staff
 * member's sign-in to the support console (src/console/sign-in.ts).
 */
export type StatePurpose = 'consent' | 'signin' | 'confirm' | 'grant' | 'console';

export interface StateBinding {
  readonly purpose: StatePurpose;
  /** The onboarding; empty for a `grant` state. */
  readonly onboardingId: string;
  /** The mailbox grant of a `grant` state. */
  readonly grantId?: string;
  /** The tenant the consent callback named (sign-in and confirm states), or the grant's. */
  readonly tenantId: string | null;
  /** Whether this sign-in asked for a silent (prompt=none) sign-in. */
  readonly silent: boolean;
  /**
   * The client id of the bundle app whose admin consent (consent states) or sign-in (signin states) this is
   * (src/credentials/bundle-apps.ts); absent: the home app.
   */
  readonly app?: string;
  /** The admin who signed in (confirm states): who confirms the appliance. */
  readonly admin?: { readonly objectId: string; readonly displayName: string } | null;
  readonly expiresAt: string;
}

/** A used state: its binding, and the browser key it was presented with (to bind the next step to). */
export interface UsedState extends StateBinding {
  readonly browserKey: string;
}

export type StateProblem = 'unknown' | 'expired' | 'replayed' | 'otherBrowser';

export class StateRejected extends Error {
  constructor(readonly problem: StateProblem) {
    super(`state ${problem}`);
    this.name = 'StateRejected';
  }
}

export interface StateStore {
  /** A new state, bound to the browser that holds `browserKey` (see `newBrowserKey`). */
  issue(binding: Omit<StateBinding, 'expiresAt'>, ttlSeconds: number, browserKey: string): Promise<string>;
  /**
   * Uses a state once: returns its binding, or throws StateRejected (unknown, wrong purpose, expired,
   * replayed, or `otherBrowser` when none of `browserKeys` is the key it was issued with — checked before the
   * state is used, so a request from another browser records nothing, not even the use).
   */
  consume(state: string, purpose: StatePurpose, browserKeys: readonly string[]): Promise<UsedState>;
}

/** A syntactically possible state or browser key: what `issue` and `newBrowserKey` make (43 base64url). */
export const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A browser's key for its consent states: 256 random bits, kept by the browser in a cookie. */
export function newBrowserKey(): string {
  return randomBytes(32).toString('base64url');
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

export function createStateStore(storage: TableStorage, now: () => Date = () => new Date()): StateStore {
  const table = storage.table('states');
  const hash = (state: string) => sha256(state).toString('base64url');
  return {
    async issue(binding, ttlSeconds, browserKey) {
      if (!STATE_PATTERN.test(browserKey)) throw new TypeError('a browser key is 43 base64url characters');
      const state = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000).toISOString();
      const { admin, ...rest } = binding;
      await table.insert({
        partitionKey: 'state',
        rowKey: hash(state),
        ...rest,
        admin: admin ? JSON.stringify(admin) : null,
        browser: sha256(browserKey).toString('base64url'),
        expiresAt,
      });
      return state;
    },
    async consume(state, purpose, browserKeys) {
      if (!STATE_PATTERN.test(state)) throw new StateRejected('unknown');
      const key = hash(state);
      const row = await table.get('state', key);
      if (!row || row.purpose !== purpose || typeof row.onboardingId !== 'string')
        throw new StateRejected('unknown');
      if (Date.parse(String(row.expiresAt)) <= now().getTime()) throw new StateRejected('expired');
      const browserKey = issuedTo(row.browser, browserKeys);
      if (browserKey === undefined) throw new StateRejected('otherBrowser');
      try {
        await table.insert({ partitionKey: 'used', rowKey: key, usedAt: now().toISOString() });
      } catch (err) {
        if (err instanceof RowExists) throw new StateRejected('replayed');
        throw err;
      }
      return {
        purpose,
        onboardingId: row.onboardingId,
        ...(typeof row.grantId === 'string' ? { grantId: row.grantId } : {}),
        ...(typeof row.app === 'string' ? { app: row.app } : {}),
        tenantId: typeof row.tenantId === 'string' ? row.tenantId : null,
        silent: row.silent === true,
        admin: typeof row.admin === 'string' ? (JSON.parse(row.admin) as StateBinding['admin']) : null,
        expiresAt: String(row.expiresAt),
        browserKey,
      };
    },
  };
}

/** The one of the keys (a browser sends a few at most; more are ignored) that hashes to the stored one. */
function issuedTo(stored: unknown, browserKeys: readonly string[]): string | undefined {
  if (typeof stored !== 'string') return undefined;
  const expected = Buffer.from(stored, 'base64url');
  if (expected.length !== 32) return undefined;
  return browserKeys.slice(0, 4).find((k) => STATE_PATTERN.test(k) && timingSafeEqual(sha256(k), expected));
}
