/**
 * The token cache on the real MSAL adapter against the Entra simulator, over real sockets (STYLE.md: no
 * mocks of msal-node; failures produced by the simulator's faults). The adapter is wrapped only to count
 * the calls the cache makes; where it matters, the simulator's side is checked too. Every fault is scoped
 * to the test's own tenant (`pathContains`) and counted, since other test files share the simulator.
 * @module
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { createMsalEntraTokens } from '../../src/adapters/entra/msal.js';
import { EntraRefused, type AcquireOptions, type EntraTokens } from '../../src/adapters/entra/port.js';
import { createTokenCache } from '../../src/vending/token-cache.js';
import { TokenUnavailable, type TokenCache } from '../../src/vending/token-cache-contract.js';

const EXO = 'https://outlook.office365.com/.default';
const MIN = 60_000;

/** The real adapter, with a record of each call the cache makes and how it ended. */
function countedEntra(timeoutMs?: number): {
  entra: EntraTokens;
  calls: { options?: AcquireOptions; ended: Promise<unknown> }[];
} {
  const real = createMsalEntraTokens({
    authorityHost: inject('entraUrl'),
    clientId: inject('sandbox').homeApp.clientId,
    credential: { kind: 'secret', secret: inject('sandbox').homeApp.clientSecret },
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  const calls: { options?: AcquireOptions; ended: Promise<unknown> }[] = [];
  return {
    calls,
    entra: {
      acquireAppToken(tenantId, scope, options) {
        const p = real.acquireAppToken(tenantId, scope, options);
        calls.push({
          options,
          ended: p.then(
            () => 'token',
            (err: unknown) => err,
          ),
        });
        return p;
      },
    },
  };
}

/** The token endpoint path of a tenant at the simulator: where faults for token requests are aimed. */
const tokenPath = (tenantId: string): string => `${tenantId}/oauth2/v2.0/token`;

async function fault(body: Record<string, unknown>): Promise<void> {
  await control('POST', '/_sim/faults', { target: 'entra', ...body });
}

async function consentedTenant(name: string): Promise<string> {
  const tenantId = await newTenant(`Token cache: ${name}`);
  await consentHomeApp(tenantId);
  return tenantId;
}

function tid(accessToken: string): unknown {
  const payload = accessToken.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { tid?: unknown }).tid;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

let cache: TokenCache | undefined;
afterEach(() => cache?.close());

describe('token cache on MSAL against the Entra simulator', () => {
  it('200 concurrent cold requests make one token request at the simulator (SPEC.md Guarantees)', async () => {
    const tenantId = await consentedTenant('single flight');
    const { entra, calls } = countedEntra();
    cache = createTokenCache({ entra });
    // Two slowed passes at the tenant's token endpoint: the 200 requests may use up one only, the second is
    // still there afterwards (a direct request is slow), so the simulator saw exactly one token request.
    await fault({ kind: 'slow', delayMs: 1_500, pathContains: tokenPath(tenantId), count: 2 });

    const started = Date.now();
    const tokens = await Promise.all(Array.from({ length: 200 }, () => cache!.get(tenantId, EXO)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tid(tokens[0]!.accessToken)).toBe(tenantId);
    expect(tokens[0]!.expiresOn.getTime()).toBeGreaterThan(Date.now() + 50 * MIN);
    expect(calls.map((c) => c.options)).toEqual([{ fresh: true }]);

    const direct = Date.now();
    await countedEntra().entra.acquireAppToken(tenantId, EXO, { fresh: true });
    expect(Date.now() - direct).toBeGreaterThanOrEqual(1_400);

    // Warm: no request at all.
    expect(await cache.get(tenantId, EXO)).toBe(tokens[0]);
    expect(calls).toHaveLength(1);
  });

  it('a 503 with Retry-After: TokenUnavailable with it, no token request before it has passed', async () => {
    const tenantId = await consentedTenant('503');
    const { entra, calls } = countedEntra();
    cache = createTokenCache({ entra });
    await fault({
      kind: 'status',
      status: 503,
      retryAfterSeconds: 2,
      pathContains: tokenPath(tenantId),
      count: 1,
    });

    const err = await rejection(cache.get(tenantId, EXO));
    expect(err).toBeInstanceOf(TokenUnavailable);
    expect((err as TokenUnavailable).retryAfterSeconds).toBe(2);
    const again = await rejection(cache.get(tenantId, EXO));
    expect(again).toBeInstanceOf(TokenUnavailable);
    expect((again as TokenUnavailable).retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(calls).toHaveLength(1);

    await new Promise((r) => setTimeout(r, 2_100));
    expect(tid((await cache.get(tenantId, EXO)).accessToken)).toBe(tenantId);
    expect(calls).toHaveLength(2);
  });

  it('a 429 met by the background refresh: the cached token is served, no request until Retry-After', async () => {
    const tenantId = await consentedTenant('429 on refresh');
    const { entra, calls } = countedEntra();
    let offset = 0;
    cache = createTokenCache({ entra, now: () => Date.now() + offset });
    const first = await cache.get(tenantId, EXO);

    await fault({ kind: 'throttle', retryAfterSeconds: 30, pathContains: tokenPath(tenantId), count: 1 });
    offset = first.expiresOn.getTime() - Date.now() - 8 * MIN; // 8 minutes left: refresh due
    expect(await cache.get(tenantId, EXO)).toBe(first);
    expect(calls.map((c) => c.options)).toEqual([{ fresh: true }, { fresh: true }]);
    expect(await calls[1]!.ended).toMatchObject({ name: 'EntraUnavailable', retryAfterSeconds: 30 });

    for (let i = 0; i < 20; i++) expect(await cache.get(tenantId, EXO)).toBe(first);
    expect(calls).toHaveLength(2);

    offset += 31_000; // Retry-After over: the next hit refreshes
    expect(await cache.get(tenantId, EXO)).toBe(first);
    expect(await calls[2]?.ended).toBe('token');
    expect(calls).toHaveLength(3);
    // (Which token is served next depends on the simulator's random 60–90 minute lifetimes seen from the
    // shifted clock; the unit tests check the replacement.)
    expect(tid((await cache.get(tenantId, EXO)).accessToken)).toBe(tenantId);
  });

  it('Entra hanging for 20 s: get settles within ~5 s with TokenUnavailable, and asks no more meanwhile', async () => {
    const tenantId = await consentedTenant('slow');
    // The adapter gives up after 7 s (its own timeout): long after the cache's 5 s deadline.
    const { entra, calls } = countedEntra(7_000);
    cache = createTokenCache({ entra });
    await fault({ kind: 'slow', delayMs: 20_000, pathContains: tokenPath(tenantId), count: 1 });

    const started = Date.now();
    const err = await rejection(cache.get(tenantId, EXO));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(TokenUnavailable);
    expect((err as TokenUnavailable).retryAfterSeconds).toBe(5);
    // The adapter gives one request 4 s in all (APP_TOKEN_DEADLINE_MS), leaving a margin under 5 s.
    expect(elapsed).toBeGreaterThanOrEqual(3_900);
    expect(elapsed).toBeLessThan(6_500);

    const fast = Date.now();
    expect(await rejection(cache.get(tenantId, EXO))).toBeInstanceOf(TokenUnavailable);
    expect(Date.now() - fast).toBeLessThan(500);
    expect(calls).toHaveLength(1);
    // The request itself ends with the adapter's timeout; nothing is left running after the test.
    expect(await calls[0]!.ended).toMatchObject({ name: 'EntraUnavailable' });
  });

  it('a valid cached token is served while Entra resets connections', async () => {
    const tenantId = await consentedTenant('reset on refresh');
    const { entra, calls } = countedEntra();
    let offset = 0;
    cache = createTokenCache({ entra, now: () => Date.now() + offset });
    const first = await cache.get(tenantId, EXO);

    // Two resets: the adapter sends a request that met a reset on a reused keep-alive connection once more.
    await fault({ kind: 'reset', pathContains: tokenPath(tenantId), count: 2 });
    offset = first.expiresOn.getTime() - Date.now() - 7 * MIN;
    expect(await cache.get(tenantId, EXO)).toBe(first);
    expect(await calls[1]!.ended).toMatchObject({ name: 'EntraUnavailable' });
    expect(await cache.get(tenantId, EXO)).toBe(first);
    expect(calls).toHaveLength(2);
  });

  it('a request that meets a reset on a reused keep-alive connection is sent once more, on a new one', async () => {
    const tenantId = await consentedTenant('stale connection');
    const { entra, calls } = countedEntra();
    let offset = 0;
    cache = createTokenCache({ entra, now: () => Date.now() + offset });
    const first = await cache.get(tenantId, EXO);

    await fault({ kind: 'reset', pathContains: tokenPath(tenantId), count: 1 });
    offset = first.expiresOn.getTime() - Date.now() - 7 * MIN;
    expect(await cache.get(tenantId, EXO)).toBe(first);
    // Without the second attempt this refresh ends in EntraUnavailable (the test above, with one reset).
    expect(await calls[1]!.ended).toBe('token');
    expect(calls).toHaveLength(2);
  });

  it('consent removed: after forgetTenant the refusal (AADSTS7000229) reaches the caller unchanged, not MSAL’s cached token', async () => {
    const tenantId = await consentedTenant('revoked');
    const { entra, calls } = countedEntra();
    cache = createTokenCache({ entra });
    await cache.get(tenantId, EXO);

    await control('DELETE', `/_sim/tenants/${tenantId}/consents/${inject('sandbox').homeApp.clientId}`);
    cache.forgetTenant(tenantId);
    const err = await rejection(cache.get(tenantId, EXO));
    expect(err).toBeInstanceOf(EntraRefused);
    expect({ aadsts: (err as EntraRefused).aadsts, error: (err as EntraRefused).error }).toEqual({
      aadsts: '7000229',
      error: 'invalid_client',
    });
    // Remembered for a few seconds: a flood of appliance requests costs Entra nothing more.
    const flood = await Promise.all(Array.from({ length: 50 }, () => rejection(cache!.get(tenantId, EXO))));
    expect(flood.every((e) => e === err)).toBe(true);
    expect(calls).toHaveLength(2);
    expect(cache.stats().size).toBe(1);
    expect(cache.peek(tenantId, EXO)).toBeUndefined();
  });
});
