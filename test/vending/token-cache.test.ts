/**
 * The token cache's guarantees (SPEC.md "Guarantees") against a small fake of the
 * `EntraTokens` port — our interface, not an SDK — whose answers the tests release one by one, with
 * vitest's fake timers as the clock.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EntraRefused,
  EntraUnavailable,
  type AcquireOptions,
  type AppToken,
  type EntraTokens,
} from '../../src/adapters/entra/port.js';
import { createTokenCache } from '../../src/vending/token-cache.js';
import { TokenUnavailable, type TokenCache } from '../../src/vending/token-cache-contract.js';

const T1 = '11111111-1111-1111-1111-111111111111';
const T2 = '22222222-2222-2222-2222-222222222222';
const EXO = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
const MIN = 60_000;

interface Call {
  readonly tenantId: string;
  readonly scope: string;
  readonly options: AcquireOptions | undefined;
  resolve(token: AppToken): void;
  reject(err: unknown): void;
}

/** The port, answering only when a test says so. */
class FakeEntra implements EntraTokens {
  readonly calls: Call[] = [];
  private serial = 0;

  acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
    return new Promise<AppToken>((resolve, reject) => {
      this.calls.push({ tenantId, scope, options, resolve, reject });
    });
  }

  /** A token like Entra's, expiring `lifetimeMs` from now. */
  token(tenantId: string, lifetimeMs = 75 * MIN): AppToken {
    this.serial += 1;
    return {
      accessToken: `eyJ0eXAiOiJKV1QifQ.secret-token-${this.serial}.sig`,
      expiresOn: new Date(Date.now() + lifetimeMs),
      roles: ['IMAP.AccessAsApp'],
      servicePrincipalId: 'sp',
      tenantId,
    };
  }

  /** Answers the last call with a token. */
  answer(lifetimeMs?: number): AppToken {
    const call = this.last();
    const token = this.token(call.tenantId, lifetimeMs);
    call.resolve(token);
    return token;
  }

  last(): Call {
    const call = this.calls.at(-1);
    if (!call) throw new Error('no Entra call');
    return call;
  }
}

/** The settled outcome of a promise, for asserting rejections without unhandled ones. */
async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  return p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );
}

let entra: FakeEntra;
let cache: TokenCache;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2025-06-01T08:00:00Z') });
  entra = new FakeEntra();
  cache = createTokenCache({ entra });
});

afterEach(() => {
  cache.close();
  vi.useRealTimers();
});

/** A token cached for (tenant, scope), fresh from the fake. */
async function warmUp(tenantId = T1, scope = EXO, lifetimeMs?: number): Promise<AppToken> {
  const p = cache.get(tenantId, scope);
  const token = entra.answer(lifetimeMs);
  await p;
  return token;
}

describe('warm path (served from memory with no I/O at all)', () => {
  it('answers a cached token without calling Entra, the same object each time', async () => {
    const token = await warmUp();
    const a = await cache.get(T1, EXO);
    const b = await cache.get(T1, EXO);
    expect(a).toEqual({ accessToken: token.accessToken, expiresOn: token.expiresOn });
    expect(b).toBe(a);
    expect(cache.peek(T1, EXO)).toBe(a);
    expect(entra.calls).toHaveLength(1);
    expect(cache.stats()).toEqual({ entraRequests: 1, hits: 3, misses: 1, size: 1, maxEntries: 100_000 });
  });

  it('returns an already-resolved promise, the same one on every hit (nothing allocated)', async () => {
    await warmUp();
    expect(cache.get(T1, EXO)).toBe(cache.get(T1, EXO));
  });

  it('peek answers undefined when nothing vendable is cached, and starts nothing', () => {
    expect(cache.peek(T1, EXO)).toBeUndefined();
    expect(entra.calls).toHaveLength(0);
    expect(cache.stats().size).toBe(0);
  });

  it('keeps the tenant id case-insensitive and the scopes apart', async () => {
    await warmUp(T1, EXO);
    expect(cache.peek(T1.toUpperCase(), EXO)).toBeDefined();
    expect(cache.peek(T1, GRAPH)).toBeUndefined();
    expect(entra.last().tenantId).toBe(T1);
  });
});

describe('single flight (SPEC.md: "fetched from Microsoft once, however many appliances ask at once")', () => {
  it('200 concurrent cold requests share one Entra request', async () => {
    const all = Array.from({ length: 200 }, () => cache.get(T1, EXO));
    expect(entra.calls).toHaveLength(1);
    expect(entra.calls[0]!.options).toEqual({ fresh: true });
    const token = entra.answer();
    const got = await Promise.all(all);
    expect(new Set(got.map((t) => t.accessToken))).toEqual(new Set([token.accessToken]));
    expect(cache.stats()).toMatchObject({ entraRequests: 1, misses: 200, hits: 0 });
  });

  it('200 concurrent cold requests for one key all get the one failure, with one Entra request', async () => {
    const all = Array.from({ length: 200 }, () => outcome(cache.get(T1, EXO)));
    entra.last().reject(new EntraUnavailable(7));
    const results = await Promise.all(all);
    expect(entra.calls).toHaveLength(1);
    for (const r of results) {
      expect(r).toMatchObject({ err: expect.any(TokenUnavailable) });
      expect((r as { err: TokenUnavailable }).err.retryAfterSeconds).toBe(7);
    }
  });
});

describe('lifetime (less than 5 minutes left is never vended; refreshed ahead)', () => {
  it('never vends a token with less than 5 minutes left: it asks Entra instead', async () => {
    const first = await warmUp(T1, EXO, 20 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 5 * MIN + 1);
    expect(cache.peek(T1, EXO)).toBeUndefined();
    const p = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    const second = entra.answer();
    expect((await p).accessToken).toBe(second.accessToken);
  });

  it('vends a token with exactly 5 minutes left', async () => {
    const first = await warmUp(T1, EXO, 20 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 5 * MIN);
    expect(cache.peek(T1, EXO)?.accessToken).toBe(first.accessToken);
  });

  it('refuses a token Entra issues with less than 5 minutes left, without caching it', async () => {
    const p = outcome(cache.get(T1, EXO));
    entra.answer(4 * MIN);
    expect(await p).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect(cache.peek(T1, EXO)).toBeUndefined();
  });

  it('with less than 10 minutes left, one hit starts one background refresh (fresh) and hits keep the old token', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 10 * MIN + 1);
    const during = await Promise.all(Array.from({ length: 50 }, () => cache.get(T1, EXO)));
    expect(during.every((t) => t.accessToken === first.accessToken)).toBe(true);
    expect(entra.calls).toHaveLength(2);
    expect(entra.last().options).toEqual({ fresh: true });
    const second = entra.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect((await cache.get(T1, EXO)).accessToken).toBe(second.accessToken);
    expect(entra.calls).toHaveLength(2);
  });

  it('no refresh while more than 10 minutes are left', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 10 * MIN - 1);
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(1);
  });

  it('refreshes a short-lived token (10 minutes: a lifetime policy) halfway through its vendable life, once', async () => {
    const first = await warmUp(T1, EXO, 10 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 8 * MIN);
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(1);
    vi.setSystemTime(first.expiresOn.getTime() - 7.5 * MIN);
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    const second = entra.answer(10 * MIN);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i++) expect((await cache.get(T1, EXO)).accessToken).toBe(second.accessToken);
    expect(entra.calls).toHaveLength(2);
  });

  it('a caller that misses while a refresh is out joins it', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 5 * MIN - 10_000);
    await cache.get(T1, EXO); // starts the refresh
    vi.setSystemTime(first.expiresOn.getTime() - 5 * MIN + 10_000);
    const p = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    const second = entra.answer();
    expect((await p).accessToken).toBe(second.accessToken);
  });

  it('a request out for more than a minute is abandoned and replaced, in case the port never settles', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 8 * MIN);
    await cache.get(T1, EXO); // starts a refresh that never answers
    vi.setSystemTime(first.expiresOn.getTime() - 4 * MIN);
    const p = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(3);
    const third = entra.answer();
    expect((await p).accessToken).toBe(third.accessToken);
    entra.calls[1]!.reject(new EntraUnavailable(60)); // the abandoned one fails late: no backoff from it
    await vi.advanceTimersByTimeAsync(0);
    vi.setSystemTime(third.expiresOn.getTime() - 9 * MIN);
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(4);
  });
});

describe('Entra 429/5xx (back off, honouring Retry-After)', () => {
  it('answers TokenUnavailable with the Retry-After and asks Entra nothing until it has passed', async () => {
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(new EntraUnavailable(30, 'Entra ID answered HTTP 429'));
    const r = await p;
    expect(r).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect((r as { err: TokenUnavailable }).err.retryAfterSeconds).toBe(30);

    await vi.advanceTimersByTimeAsync(20_000);
    const again = await outcome(cache.get(T1, EXO));
    expect((again as { err: TokenUnavailable }).err.retryAfterSeconds).toBe(10);
    await vi.advanceTimersByTimeAsync(9_999);
    await outcome(cache.get(T1, EXO));
    expect(entra.calls).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1);
    const ok = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    entra.answer();
    await expect(ok).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  it('serves the still-valid cached token while backing off after a failed refresh', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 9 * MIN);
    expect((await cache.get(T1, EXO)).accessToken).toBe(first.accessToken);
    entra.last().reject(new EntraUnavailable(120));
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i++) {
      expect((await cache.get(T1, EXO)).accessToken).toBe(first.accessToken);
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(entra.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(20_000); // Retry-After over: the next hit refreshes again
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(3);
  });

  it('backs off per (tenant, scope): another tenant is still asked', async () => {
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(new EntraUnavailable(60));
    await p;
    const q = cache.get(T2, EXO);
    expect(entra.calls).toHaveLength(2);
    entra.answer();
    await q;
  });

  it('an unexpected port error is a short TokenUnavailable, not a 500', async () => {
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(new Error('Entra ID token request failed'));
    const r = await p;
    expect((r as { err: TokenUnavailable }).err).toBeInstanceOf(TokenUnavailable);
    expect((r as { err: TokenUnavailable }).err.retryAfterSeconds).toBe(5);
  });
});

describe('Entra hanging (503 with Retry-After within 5 s — never a hang: SPEC.md "Guarantees")', () => {
  it('settles within 5 s with TokenUnavailable; later callers fail at once; no second request while one is out', async () => {
    const p = outcome(cache.get(T1, EXO));
    await vi.advanceTimersByTimeAsync(2_000);
    const late = outcome(cache.get(T1, EXO)); // joins, and settles with the first caller
    await vi.advanceTimersByTimeAsync(2_999);
    let settled = false;
    void p.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const r = await p;
    expect(r).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect((r as { err: TokenUnavailable }).err.retryAfterSeconds).toBe(5);
    expect(await late).toMatchObject({ err: expect.any(TokenUnavailable) });

    const fast = await outcome(cache.get(T1, EXO));
    expect(fast).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect(entra.calls).toHaveLength(1);

    // The request answers at last: its token is kept and served.
    const token = entra.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect((await cache.get(T1, EXO)).accessToken).toBe(token.accessToken);
    expect(entra.calls).toHaveLength(1);
  });

  it('serves the cached token while a background refresh hangs', async () => {
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 9 * MIN);
    for (let i = 0; i < 5; i++) {
      expect((await cache.get(T1, EXO)).accessToken).toBe(first.accessToken);
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(entra.calls).toHaveLength(2);
  });

  it('honours a custom deadline', async () => {
    cache.close();
    cache = createTokenCache({ entra, unavailableDeadlineMs: 1_000 });
    const p = outcome(cache.get(T1, EXO));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await p).toMatchObject({ err: expect.any(TokenUnavailable) });
  });
});

describe('Entra refusals (SPEC.md: a missing or revoked consent is named to the caller)', () => {
  it('propagates EntraRefused unchanged, caches no token, and remembers it for 5 s only', async () => {
    const refusal = new EntraRefused(
      '7000229',
      'invalid_client',
      'AADSTS7000229: The client application is missing service principal',
    );
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(refusal);
    expect(await p).toEqual({ err: refusal });
    expect(cache.peek(T1, EXO)).toBeUndefined();

    const flood = await Promise.all(Array.from({ length: 100 }, () => outcome(cache.get(T1, EXO))));
    expect(flood.every((r) => 'err' in r && r.err === refusal)).toBe(true);
    expect(entra.calls).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(5_000);
    const q = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    entra.answer();
    await q;
  });

  it('forgetTenant clears a remembered refusal (consent granted again)', async () => {
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(new EntraRefused('700016', 'unauthorized_client', 'AADSTS700016: not found'));
    await p;
    cache.forgetTenant(T1);
    const q = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
    entra.answer();
    await q;
  });

  it('a refused background refresh keeps the valid token and is reported', async () => {
    const reported: [string, string, string | undefined][] = [];
    cache.close();
    cache = createTokenCache({
      entra,
      onRefreshRefused: (tenantId, scope, err) => reported.push([tenantId, scope, err.aadsts]),
    });
    const first = await warmUp(T1, EXO, 60 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 9 * MIN);
    await cache.get(T1, EXO);
    entra.last().reject(new EntraRefused('7000229', 'invalid_client', 'AADSTS7000229: consent removed'));
    await vi.advanceTimersByTimeAsync(0);
    expect(reported).toEqual([[T1, EXO, '7000229']]);
    expect((await cache.get(T1, EXO)).accessToken).toBe(first.accessToken);
    expect(entra.calls).toHaveLength(2); // the refusal is remembered: no refresh for 5 s
  });
});

describe('forgetTenant', () => {
  it('drops every scope of that tenant and nothing else; the next get asks Entra afresh', async () => {
    await warmUp(T1, EXO);
    await warmUp(T1, GRAPH);
    await warmUp(T2, EXO);
    cache.forgetTenant(T1.toUpperCase());
    expect(cache.peek(T1, EXO)).toBeUndefined();
    expect(cache.peek(T1, GRAPH)).toBeUndefined();
    expect(cache.peek(T2, EXO)).toBeDefined();
    expect(cache.stats().size).toBe(1);
    const p = cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(4);
    expect(entra.last().options).toEqual({ fresh: true }); // MSAL's own cache must not answer
    entra.answer();
    await p;
  });

  it('a request in flight when the tenant is forgotten does not bring its token back', async () => {
    const p = cache.get(T1, EXO);
    cache.forgetTenant(T1);
    entra.answer();
    await p; // its own callers still get an answer
    expect(cache.peek(T1, EXO)).toBeUndefined();
    expect(cache.stats().size).toBe(0);
  });
});

describe('bounded memory (docs/security.md D4)', () => {
  it('keeps at most maxEntries, evicting the least recently used', async () => {
    cache.close();
    cache = createTokenCache({ entra, maxEntries: 3 });
    const tenants = ['a', 'b', 'c', 'd'].map((c) => c.repeat(8));
    for (const t of tenants.slice(0, 3)) await warmUp(t);
    expect(cache.peek('aaaaaaaa', EXO)).toBeDefined(); // a is now the most recently used
    await warmUp(tenants[3]!);
    expect(cache.stats()).toMatchObject({ size: 3, maxEntries: 3 });
    expect(cache.peek('bbbbbbbb', EXO)).toBeUndefined();
    for (const t of ['aaaaaaaa', 'cccccccc', 'dddddddd']) expect(cache.peek(t, EXO)).toBeDefined();
  });

  it('moves an entry in the LRU order at most once per 10 s (hits in between leave the order as it is)', async () => {
    cache.close();
    cache = createTokenCache({ entra, maxEntries: 3 });
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((ch) => ch.repeat(8)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    for (const t of [a, b, c]) await warmUp(t);
    for (const t of [a, b, c]) expect(cache.peek(t, EXO)).toBeDefined(); // oldest to newest: a, b, c
    vi.advanceTimersByTime(1_000);
    expect(cache.peek(a, EXO)).toBeDefined(); // a moved 1 s ago: stays the oldest
    await warmUp(d);
    expect(cache.peek(a, EXO)).toBeUndefined();
    vi.advanceTimersByTime(10_000);
    expect(cache.peek(b, EXO)).toBeDefined(); // 11 s since b moved: now the newest (c, d, b)
    await warmUp(e);
    expect(cache.peek(c, EXO)).toBeUndefined();
    for (const t of [b, d, e]) expect(cache.peek(t, EXO)).toBeDefined();
  });

  it('eviction detaches what is in flight: its answer still reaches its callers but is not stored', async () => {
    cache.close();
    cache = createTokenCache({ entra, maxEntries: 1 });
    const p = cache.get(T1, EXO);
    const first = entra.calls[0]!;
    await warmUp(T2, EXO); // evicts T1's entry
    first.resolve(entra.token(T1));
    await expect(p).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(cache.peek(T1, EXO)).toBeUndefined();
    expect(cache.stats().size).toBe(1);
  });
});

describe('secrets (SPEC.md: no access token in errors)', () => {
  it('keeps tokens out of the errors it makes', async () => {
    const first = await warmUp(T1, EXO, 20 * MIN);
    vi.setSystemTime(first.expiresOn.getTime() - 4 * MIN);
    const p = outcome(cache.get(T1, EXO));
    entra.last().reject(new EntraUnavailable(3));
    const { err } = (await p) as { err: TokenUnavailable };
    const shown = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)} ${String(err.cause)}`;
    expect(shown).not.toContain('secret-token');
  });
});

describe('close', () => {
  it('settles pending waits and refuses later calls with TokenUnavailable', async () => {
    const p = outcome(cache.get(T1, EXO));
    cache.close();
    expect(await p).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect(await outcome(cache.get(T1, EXO))).toMatchObject({ err: expect.any(TokenUnavailable) });
    expect(vi.getTimerCount()).toBe(0);
    expect(cache.stats().size).toBe(0);
  });
});
