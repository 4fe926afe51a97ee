/**
 * The `state` of the consent redirect and of the sign-in that follows it (SPEC.md `GET /connect/{code}/go`):
 * 256 random bits, bound to its onboarding, short-lived, and single-use even when several instances race —
 * the use is an insert-if-absent in Table Storage, which exactly one caller wins (STYLE.md: never read, then
 * write). Only the state's SHA-256 is stored: a table reader learns nothing to replay. Table `states`.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { RowExists, type TableStorage } from '../adapters/tables/port.js';

export type StatePurpose = 'consent' | 'signin';

export interface StateBinding {
  readonly purpose: StatePurpose;
  readonly onboardingId: string;
  /** The tenant the consent callback named (sign-in states only). */
  readonly tenantId: string | null;
  /** Whether this sign-in asked for a silent (prompt=none) sign-in. */
  readonly silent: boolean;
  readonly expiresAt: string;
}

export type StateProblem = 'unknown' | 'expired' | 'replayed';

export class StateRejected extends Error {
  constructor(readonly problem: StateProblem) {
    super(`state ${problem}`);
    this.name = 'StateRejected';
  }
}

export interface StateStore {
  issue(binding: Omit<StateBinding, 'expiresAt'>, ttlSeconds: number): Promise<string>;
  /** Uses a state once: returns its binding, or throws StateRejected (unknown, wrong purpose, expired, replayed). */
  consume(state: string, purpose: StatePurpose): Promise<StateBinding>;
}

/** A syntactically possible state: what `issue` makes (43 base64url characters). */
export const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function createStateStore(storage: TableStorage, now: () => Date = () => new Date()): StateStore {
  const table = storage.table('states');
  const hash = (state: string) => createHash('sha256').update(state).digest('base64url');
  return {
    async issue(binding, ttlSeconds) {
      const state = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000).toISOString();
      await table.insert({ partitionKey: 'state', rowKey: hash(state), ...binding, expiresAt });
      return state;
    },
    async consume(state, purpose) {
      if (!STATE_PATTERN.test(state)) throw new StateRejected('unknown');
      const key = hash(state);
      const row = await table.get('state', key);
      if (!row || row.purpose !== purpose || typeof row.onboardingId !== 'string')
        throw new StateRejected('unknown');
      if (Date.parse(String(row.expiresAt)) <= now().getTime()) throw new StateRejected('expired');
      try {
        await table.insert({ partitionKey: 'used', rowKey: key, usedAt: now().toISOString() });
      } catch (err) {
        if (err instanceof RowExists) throw new StateRejected('replayed');
        throw err;
      }
      return {
        purpose,
        onboardingId: row.onboardingId,
        tenantId: typeof row.tenantId === 'string' ? row.tenantId : null,
        silent: row.silent === true,
        expiresAt: String(row.expiresAt),
      };
    },
  };
}
