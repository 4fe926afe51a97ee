/**
 * S6 (docs/security.md): a client secret is compared with each stored verifier in constant time, every
 * verifier each time, so that neither the time taken nor the number of comparisons tells which verifier (the
 * current secret, or one in its rotation grace period) matched. `timingSafeEqual` is wrapped, not replaced:
 * the real comparison runs, and the test counts its calls.
 * @module
 */
import { createHmac } from 'node:crypto';
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Appliance } from '../../src/appliances/appliance-store.js';
import { matchClientSecret, secretVerifier } from '../../src/appliances/registry.js';
import type { BrokerKeys } from '../../src/keys/broker-keys.js';
import { applianceRecord } from '../helpers/appliances.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const keys: BrokerKeys = {
  derive: async (purpose, data) =>
    createHmac('sha256', 'test-broker-key').update(`${purpose}\u0000${data}`).digest('base64url'),
};
const NOW = new Date('2026-12-02T12:00:00Z');
const IN_AN_HOUR = new Date(NOW.getTime() + 3_600_000).toISOString();

async function withSecrets(...secrets: { secret: string; validUntil: string | null }[]): Promise<Appliance> {
  return applianceRecord({
    secrets: await Promise.all(
      secrets.map(async (s) => ({
        verifier: await secretVerifier(keys, s.secret),
        createdAt: NOW.toISOString(),
        validUntil: s.validUntil,
      })),
    ),
  });
}

const compared = () => vi.mocked(crypto.timingSafeEqual).mock.calls.length;

beforeEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('client secret comparison (S6)', () => {
  it('compares every valid verifier with timingSafeEqual, whichever matches and when none does', async () => {
    // The rotated-out secret (in its grace period) first, the current one second.
    const a = await withSecrets(
      { secret: 'old', validUntil: IN_AN_HOUR },
      { secret: 'new', validUntil: null },
    );
    expect(await matchClientSecret(keys, a, 'old', NOW)).toBe(Date.parse(IN_AN_HOUR));
    expect(compared()).toBe(2);
    expect(await matchClientSecret(keys, a, 'new', NOW)).toBe(Infinity);
    expect(compared()).toBe(4);
    expect(await matchClientSecret(keys, a, 'wrong', NOW)).toBeUndefined();
    expect(compared()).toBe(6);
  });

  it('goes on comparing after a match: a later verifier of the same secret still counts', async () => {
    // Only a loop without an early exit sees the second entry's longer validity.
    const a = await withSecrets({ secret: 's', validUntil: IN_AN_HOUR }, { secret: 's', validUntil: null });
    expect(await matchClientSecret(keys, a, 's', NOW)).toBe(Infinity);
  });

  it('never compares with a verifier whose grace period has ended, and accepts nothing through it', async () => {
    const a = await withSecrets(
      { secret: 'expired', validUntil: new Date(NOW.getTime() - 1).toISOString() },
      { secret: 'new', validUntil: null },
    );
    expect(await matchClientSecret(keys, a, 'expired', NOW)).toBeUndefined();
    expect(compared()).toBe(1);
  });
});
