/**
 * A token fetched while a fresh consent replicates, lacking a role the tenant's profiles need,
 * is not kept for its full lifetime (src/vending/token-cache.ts `TokenExpectation`), and the token endpoint asks
 * for that only within the replication window (src/vending/issue.ts `replicationExpectation`). Against a small
 * fake of the `EntraTokens` port (our interface, not an SDK), with vitest's fake timers as the clock.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcquireOptions, AppToken, EntraTokens } from '../../src/adapters/entra/port.js';
import { REPLICATION_WINDOW_SECONDS } from '../../src/consent/proof.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { newTenantRecord } from '../../src/tenants/tenant-store.js';
import { createTokenCache } from '../../src/vending/token-cache.js';
import type { TokenCache } from '../../src/vending/token-cache-contract.js';
import { replicationExpectation } from '../../src/vending/issue.js';

const T1 = '11111111-1111-1111-1111-111111111111';
const EXO = 'https://outlook.office365.com/.default';
const MIN = 60_000;

/** The port, answering each call with the roles a test sets, a 75-minute token. */
class FakeEntra implements EntraTokens {
  readonly calls: { tenantId: string; scope: string; options?: AcquireOptions }[] = [];
  roles: string[] = [];

  acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
    this.calls.push({ tenantId, scope, options });
    return Promise.resolve({
      accessToken: `eyJ0eXAiOiJKV1QifQ.token-${this.calls.length}.sig`,
      expiresOn: new Date(Date.now() + 75 * MIN),
      roles: [...this.roles],
      servicePrincipalId: 'sp',
      tenantId,
    });
  }
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

const inWindow = () => ({ roles: ['IMAP.AccessAsApp'], untilMs: Date.now() + 30 * MIN });

describe('token cache: a token fetched while the consent replicates', () => {
  it('keeps a token lacking an expected role for about a minute, then fetches one that carries it', async () => {
    entra.roles = [];
    const first = await cache.get(T1, EXO, inWindow());
    expect(entra.calls).toHaveLength(1);

    // Still served for a while: it is a valid Microsoft token, and Entra is not asked on every request.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await cache.get(T1, EXO)).toBe(first);
    expect(entra.calls).toHaveLength(1);

    // After half of the brief keep a hit refreshes it in the background; the roles have arrived meanwhile.
    entra.roles = ['IMAP.AccessAsApp'];
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await cache.get(T1, EXO)).toBe(first);
    await vi.advanceTimersByTimeAsync(0);
    expect(entra.calls).toHaveLength(2);
    const second = await cache.get(T1, EXO);
    expect(second.accessToken).not.toBe(first.accessToken);

    // The complete token is kept as usual: nothing more for an hour.
    await vi.advanceTimersByTimeAsync(50 * MIN);
    expect(await cache.get(T1, EXO)).toBe(second);
    expect(entra.calls).toHaveLength(2);
  });

  it('does not vend a role-lacking token past the brief keep, even without a hit in between', async () => {
    entra.roles = ['POP.AccessAsApp'];
    await cache.get(T1, EXO, inWindow());
    await vi.advanceTimersByTimeAsync(61_000);
    expect(cache.peek(T1, EXO)).toBeUndefined();
    entra.roles = ['IMAP.AccessAsApp', 'POP.AccessAsApp'];
    await cache.get(T1, EXO);
    expect(entra.calls).toHaveLength(2);
  });

  it('keeps a role-lacking token its full life once the window is over (a real gap, not replication)', async () => {
    entra.roles = [];
    const token = await cache.get(T1, EXO, { roles: ['IMAP.AccessAsApp'], untilMs: Date.now() - 1 });
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(await cache.get(T1, EXO)).toBe(token);
    expect(entra.calls).toHaveLength(1);
  });

  it('keeps a token that carries every expected role its full life, within the window too', async () => {
    entra.roles = ['IMAP.AccessAsApp', 'POP.AccessAsApp'];
    const token = await cache.get(T1, EXO, inWindow());
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(await cache.get(T1, EXO)).toBe(token);
    expect(entra.calls).toHaveLength(1);
  });
});

describe('replicationExpectation: what the token endpoint asks of the cache', () => {
  const consentedAt = '2025-06-01T08:00:00.000Z';
  const at = (offsetMs: number) => Date.parse(consentedAt) + offsetMs;

  it("names the roles of the tenant's profiles on the scope, less those its proof found missing", async () => {
    const profiles = await loadProfiles(undefined);
    const tenant = {
      ...newTenantRecord(T1),
      status: 'active' as const,
      consentedAt,
      profiles: ['exchange-imap', 'exchange-pop', 'graph-mail'],
      missingRoles: { 'exchange-pop': ['POP.AccessAsApp'] },
    };
    expect(replicationExpectation(profiles, tenant, EXO, at(5 * MIN))).toEqual({
      roles: ['IMAP.AccessAsApp'],
      untilMs: at(REPLICATION_WINDOW_SECONDS * 1000),
    });
    expect(
      replicationExpectation(profiles, tenant, EXO, at(REPLICATION_WINDOW_SECONDS * 1000)),
    ).toBeUndefined();
    expect(replicationExpectation(profiles, { ...tenant, consentedAt: null }, EXO, at(0))).toBeUndefined();
    expect(
      replicationExpectation(profiles, { ...tenant, profiles: ['graph-mail'] }, EXO, at(0)),
    ).toBeUndefined();
  });
});
