import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { createStateStore, StateRejected, type StateProblem } from '../../src/consent/state-store.js';

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

describe('consent state (Table Storage, Azurite)', () => {
  const binding = () => ({
    purpose: 'consent' as const,
    onboardingId: randomUUID(),
    tenantId: null,
    silent: false,
  });

  it('is 256 random bits, bound to its onboarding, and usable once', async () => {
    const states = createStateStore(storage);
    const b = binding();
    const state = await states.issue(b, 900);
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await states.consume(state, 'consent')).toMatchObject({
      onboardingId: b.onboardingId,
      purpose: 'consent',
    });
    expect(await problemOf(states.consume(state, 'consent'))).toBe('replayed');
  });

  it('lets exactly one of ten concurrent uses win', async () => {
    const states = createStateStore(storage);
    const state = await states.issue(binding(), 900);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => states.consume(state, 'consent')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an expired, unknown, tampered or foreign-purpose state', async () => {
    let clock = Date.now();
    const states = createStateStore(storage, () => new Date(clock));
    const state = await states.issue(binding(), 60);
    clock += 61_000;
    expect(await problemOf(states.consume(state, 'consent'))).toBe('expired');
    const fresh = await states.issue(binding(), 60);
    expect(await problemOf(states.consume(fresh, 'signin'))).toBe('unknown');
    expect(
      await problemOf(states.consume(`${fresh.slice(0, -1)}${fresh.endsWith('A') ? 'B' : 'A'}`, 'consent')),
    ).toBe('unknown');
    expect(await problemOf(states.consume('short', 'consent'))).toBe('unknown');
    expect(await problemOf(states.consume(fresh, 'consent'))).toBeUndefined();
  });
});
