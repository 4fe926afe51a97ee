/**
 * The token cache's memory bound, measured (100,000 tenants must not exhaust the heap; at most 4 KB
 * per cached token: docs/security.md D4). Fills 100,000 (tenant, scope) entries with distinct ~1.5 KB
 * JWT-sized strings from a fake `EntraTokens` port and measures the heap after a full garbage collection.
 * `gc` is reached through V8's `--expose-gc` flag set at run time, so the figure is exact rather than
 * "whatever the collector has not yet reclaimed"; without it the test would be too noisy to assert on.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { AppToken, EntraTokens } from '../../src/adapters/entra/port.js';
import { createTokenCache } from '../../src/vending/token-cache.js';
import type { TokenCache } from '../../src/vending/token-cache-contract.js';

const EXO = 'https://outlook.office365.com/.default';
const ENTRIES = 100_000;
const HEADER = Buffer.from('eyJ0eXAiOiJKV1QiLCJub25jZSI6IngiLCJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A flat one-byte string of a JWT's shape and size (~1,500 characters), different each time. */
function jwtLike(): string {
  const payload = Buffer.from(randomBytes(850).toString('base64url'));
  const signature = Buffer.from(randomBytes(256).toString('base64url'));
  return Buffer.concat([HEADER, payload, Buffer.from('.'), signature]).toString('latin1');
}

const entra: EntraTokens = {
  acquireAppToken: (tenantId) =>
    Promise.resolve<AppToken>({
      accessToken: jwtLike(),
      expiresOn: new Date(Date.now() + 3_600_000),
      roles: ['IMAP.AccessAsApp', 'SMTP.SendAsApp'],
      servicePrincipalId: randomUUID(),
      tenantId,
    }),
};

/**
 * Fills the cache with `count` new tenants. Each id is a flat string held only by the cache (as an id read
 * from a request or a table would be): `randomUUID()` returns a rope of many pieces that V8 flattens when it
 * is first used as a Map key, which would make the heap shrink while the cache grows.
 */
async function fill(cache: TokenCache, count: number): Promise<{ first: string; last: string }> {
  const ids = { first: '', last: '' };
  for (let i = 0; i < count; i += 1_000) {
    await Promise.all(
      Array.from({ length: 1_000 }, (_, j) => {
        const id = Buffer.from(randomUUID()).toString('latin1');
        if (i + j === 0) ids.first = id;
        if (i + j === count - 1) ids.last = id;
        return cache.get(id, EXO);
      }),
    );
  }
  return ids;
}

describe('token cache memory (bounded; ≤ 4 KB per cached token)', () => {
  it('holds 100,000 entries at under 4 KB each, token included, and stays bounded past that', async () => {
    const cache = createTokenCache({ entra, maxEntries: ENTRIES });
    const tokenChars = jwtLike().length;

    const before = heapAfterGc();
    const firstFill = await fill(cache, ENTRIES);
    const full = heapAfterGc();
    expect(cache.stats().size).toBe(ENTRIES);
    const perEntry = (full - before) / ENTRIES;

    // Another 100,000 tenants: every one evicts one; the heap stays where it was.
    const secondFill = await fill(cache, ENTRIES);
    const after = heapAfterGc();
    expect(cache.stats()).toMatchObject({ size: ENTRIES, maxEntries: ENTRIES, entraRequests: 2 * ENTRIES });
    expect(cache.peek(firstFill.first, EXO)).toBeUndefined();
    expect(cache.peek(secondFill.last, EXO)).toBeDefined();

    console.info(
      `token cache: ${Math.round(perEntry)} bytes per entry at ${ENTRIES} entries ` +
        `(token ${tokenChars} chars, so ~${Math.round(perEntry - tokenChars)} bytes of bookkeeping and tenant id); ` +
        `heap ${((full - before) / 2 ** 20).toFixed(1)} MB full, ${((after - before) / 2 ** 20).toFixed(1)} MB after 100,000 evictions`,
    );
    expect(perEntry).toBeLessThan(4096);
    expect(perEntry).toBeGreaterThan(tokenChars); // the measurement sees the tokens: it is not vacuous
    expect(after - before).toBeLessThan((full - before) * 1.1);
    cache.close();
  }, 120_000);
});
