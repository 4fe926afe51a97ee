import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import {
  createStateStore,
  newBrowserKey,
  StateRejected,
  type StateProblem,
} from '../../src/consent/state-store.js';

const storage = createDataTablesStorage({
  kind: 'connectionString',
  connectionString: inject('tablesConnectionString'),
});

async function problemOf(p: Promise<unknown>): Promise<StateProblem | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StateRejected) return err.problem;
    throw err;
  }
  return undefined;
}

const KEY = newBrowserKey();

describe('consent state (Table Storage, Azurite)', () => {
  it('is usable only with the browser key it was issued to, and a refused attempt does not use it', async () => {
    const states = createStateStore(storage);
    const state = await states.issue(
      { purpose: 'consent', onboardingId: randomUUID(), tenantId: null, silent: false },
      900,
      KEY,
    );
    expect(await problemOf(states.consume(state, 'consent', []))).toBe('otherBrowser');
    expect(await problemOf(states.consume(state, 'consent', [newBrowserKey()]))).toBe('otherBrowser');
    expect(await problemOf(states.consume(state, 'consent', ['not-a-key']))).toBe('otherBrowser');
    // The right browser still can, once, with its key among others it sends.
    expect(await states.consume(state, 'consent', [newBrowserKey(), KEY])).toMatchObject({
      browserKey: KEY,
    });
    expect(await problemOf(states.consume(state, 'consent', [KEY]))).toBe('replayed');
  });

  const binding = () => ({
    purpose: 'consent' as const,
    onboardingId: randomUUID(),
    tenantId: null,
    silent: false,
  });

  it('is 256 random bits, bound to its onboarding, and usable once', async () => {
    const states = createStateStore(storage);
    const b = binding();
    const state = await states.issue(b, 900, KEY);
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await states.consume(state, 'consent', [KEY])).toMatchObject({
      onboardingId: b.onboardingId,
      purpose: 'consent',
    });
    expect(await problemOf(states.consume(state, 'consent', [KEY]))).toBe('replayed');
  });

  it('lets exactly one of ten concurrent uses win', async () => {
    const states = createStateStore(storage);
    const state = await states.issue(binding(), 900, KEY);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => states.consume(state, 'consent', [KEY])),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an expired, unknown, tampered or foreign-purpose state', async () => {
    let clock = Date.now();
    const states = createStateStore(storage, () => new Date(clock));
    const state = await states.issue(binding(), 60, KEY);
    clock += 61_000;
    expect(await problemOf(states.consume(state, 'consent', [KEY]))).toBe('expired');
    const fresh = await states.issue(binding(), 60, KEY);
    expect(await problemOf(states.consume(fresh, 'signin', [KEY]))).toBe('unknown');
    expect(
      await problemOf(
        states.consume(`${fresh.slice(0, -1)}${fresh.endsWith('A') ? 'B' : 'A'}`, 'consent', [KEY]),
      ),
    ).toBe('unknown');
    expect(await problemOf(states.consume('short', 'consent', [KEY]))).toBe('unknown');
    expect(await problemOf(states.consume(fresh, 'consent', [KEY]))).toBeUndefined();
  });
});
