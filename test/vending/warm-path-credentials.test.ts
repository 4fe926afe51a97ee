/**
 * The warm path's memory of verified Basic credentials (src/vending/warm-path.ts): a remembered
 * header is accepted only while the full check would accept it — same appliance record, secret still valid —
 * and never stands in for another rule of client authentication. The directory and the key are the domain's
 * own small in-memory ports here; the broker's wiring is covered by the token endpoint's integration tests.
 * @module
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NOT_CACHED } from '../../src/directory/record-directory.js';
import type { Appliance } from '../../src/appliances/appliance-store.js';
import { authenticateClient, rememberedClient, type ClientAuthDeps } from '../../src/vending/client-auth.js';
import { InvalidClient } from '../../src/vending/errors.js';
import { createVerifiedCredentials } from '../../src/vending/warm-path.js';

const CLIENT = '6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const KEY = Buffer.alloc(32, 7);
const verifier = (secret: string) =>
  createHmac('sha256', KEY).update(`appliance-client-secret\u0000${secret}`).digest('base64url');
const basic = (secret: string, id = CLIENT) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function appliance(
  secrets: { secret: string; validUntil: string | null }[],
  status: 'active' | 'revoked' = 'active',
): Appliance {
  return {
    clientId: CLIENT,
    customerRef: 'C',
    tenantId: null,
    profiles: ['exchange-imap'],
    authMethod: 'client_secret',
    secrets: secrets.map((s) => ({
      verifier: verifier(s.secret),
      createdAt: '2026-01-01T00:00:00Z',
      validUntil: s.validUntil,
    })),
    jwks: [],
    status,
    createdAt: '2026-01-01T00:00:00Z',
    createdBy: 'test',
    revokedAt: null,
    lastSeenAt: null,
    tokenCount: 0,
  };
}

function setup(initial: Appliance) {
  let record: Appliance | undefined = initial;
  let now = Date.parse('2026-11-24T12:00:00Z');
  let hashes = 0;
  let cached = true;
  const deps: ClientAuthDeps = {
    directory: {
      appliance: (id) => Promise.resolve(id === CLIENT ? record : undefined),
      tenant: () => Promise.resolve(undefined),
      peekAppliance: (id) => (!cached ? NOT_CACHED : id === CLIENT ? record : undefined),
      peekTenant: () => undefined,
      holdAppliance: (id) => ({ peek: () => deps.directory.peekAppliance(id) }),
      holdTenant: () => undefined,
      grantByHandle: () => Promise.resolve(undefined),
      peekGrantByHandle: () => undefined,
      invalidate: () => undefined,
    },
    keys: {
      derive: (purpose, data) => {
        hashes++;
        return Promise.resolve(
          createHmac('sha256', KEY).update(`${purpose}\u0000${data}`).digest('base64url'),
        );
      },
    },
    jtis: { use: () => Promise.resolve(true) },
    audiences: ['http://localhost:7071/oauth2/token'],
    now: () => new Date(now),
    verified: createVerifiedCredentials(),
  };
  const form = new Map([['grant_type', 'client_credentials']]);
  return {
    deps,
    form,
    hashes: () => hashes,
    setRecord: (a: Appliance | undefined) => (record = a),
    /** Whether the directory has the appliance in memory (else it would read it first). */
    setCached: (inMemory: boolean) => (cached = inMemory),
    advance: (ms: number) => (now += ms),
  };
}

describe('remembered Basic credentials', () => {
  it('skip the keyed hash for the same header and the same appliance record', async () => {
    const t = setup(appliance([{ secret: 's1', validUntil: null }]));
    expect(rememberedClient(t.deps, basic('s1'), t.form)).toBeUndefined();
    await authenticateClient(t.deps, basic('s1'), t.form);
    expect(t.hashes()).toBe(1);
    const again = rememberedClient(t.deps, basic('s1'), t.form);
    expect(again).toMatchObject({ method: 'client_secret_basic', appliance: { clientId: CLIENT } });
    expect(t.hashes()).toBe(1);
    // A wrong secret for the same client is never remembered: it is another header.
    expect(rememberedClient(t.deps, basic('s2'), t.form)).toBeUndefined();
    await expect(authenticateClient(t.deps, basic('s2'), t.form)).rejects.toBeInstanceOf(InvalidClient);
    expect(rememberedClient(t.deps, basic('s2'), t.form)).toBeUndefined();
  });

  it('no longer count once the appliance record changes (rotation, revocation)', async () => {
    const t = setup(appliance([{ secret: 's1', validUntil: null }]));
    await authenticateClient(t.deps, basic('s1'), t.form);
    t.setRecord(appliance([{ secret: 's1', validUntil: null }], 'revoked'));
    expect(rememberedClient(t.deps, basic('s1'), t.form)).toBeUndefined();
    await expect(authenticateClient(t.deps, basic('s1'), t.form)).rejects.toBeInstanceOf(InvalidClient);
    t.setRecord(undefined);
    expect(rememberedClient(t.deps, basic('s1'), t.form)).toBeUndefined();
  });

  it('answer only from memory: an appliance the directory would read first goes the full way', async () => {
    const t = setup(appliance([{ secret: 's1', validUntil: null }]));
    await authenticateClient(t.deps, basic('s1'), t.form);
    t.setCached(false);
    expect(rememberedClient(t.deps, basic('s1'), t.form)).toBeUndefined();
    t.setCached(true);
    expect(rememberedClient(t.deps, basic('s1'), t.form)).toBeDefined();
    expect(t.hashes()).toBe(1);
  });

  it("end with a rotated-out secret's grace period", async () => {
    const until = new Date(Date.parse('2026-11-24T12:00:00Z') + 60_000).toISOString();
    const t = setup(
      appliance([
        { secret: 'old', validUntil: until },
        { secret: 'new', validUntil: null },
      ]),
    );
    await authenticateClient(t.deps, basic('old'), t.form);
    expect(rememberedClient(t.deps, basic('old'), t.form)).toBeDefined();
    t.advance(60_000);
    expect(rememberedClient(t.deps, basic('old'), t.form)).toBeUndefined();
    await expect(authenticateClient(t.deps, basic('old'), t.form)).rejects.toBeInstanceOf(InvalidClient);
  });

  it('never stand in for the other rules: a second method or another client_id goes the full way', async () => {
    const t = setup(appliance([{ secret: 's1', validUntil: null }]));
    await authenticateClient(t.deps, basic('s1'), t.form);
    const withPost = new Map([...t.form, ['client_secret', 's1']]);
    expect(rememberedClient(t.deps, basic('s1'), withPost)).toBeUndefined();
    const otherId = new Map([...t.form, ['client_id', '00000000-0000-0000-0000-000000000000']]);
    expect(rememberedClient(t.deps, basic('s1'), otherId)).toBeUndefined();
    const sameId = new Map([...t.form, ['client_id', CLIENT]]);
    expect(rememberedClient(t.deps, basic('s1'), sameId)).toBeDefined();
  });

  it('are bounded: the oldest is dropped first', () => {
    const memory = createVerifiedCredentials(2);
    const a = appliance([]);
    memory.remember('a', { clientId: CLIENT, appliance: a, validUntil: Infinity });
    memory.remember('b', { clientId: CLIENT, appliance: a, validUntil: Infinity });
    memory.remember('c', { clientId: CLIENT, appliance: a, validUntil: Infinity });
    expect([memory.get('a'), memory.get('b'), memory.get('c')].map(Boolean)).toEqual([false, true, true]);
  });

  it('keep one entry and one keyed hash for a valid secret sent in 10,000 header spellings', async () => {
    const t = setup(appliance([{ secret: 's1', validUntil: null }]));
    const pct = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    // Scheme case, percent-encoding and case of the client id's characters, padding: all one credential.
    const spelling = (i: number) => {
      const id = [...CLIENT]
        .map((c, j) => ((i >> j) & 1 ? ((i >> (j + 1)) & 1 ? pct(c) : c.toUpperCase()) : c))
        .join('');
      const b64 = Buffer.from(`${id}:${i & 1 ? pct('s') + '1' : 's1'}`).toString('base64');
      return `${['Basic', 'basic', 'BASIC'][i % 3]} ${i % 5 === 0 ? b64.replace(/=+$/, '') : b64}`;
    };
    for (let i = 0; i < 10_000; i++) {
      const authorization = spelling(i);
      if (!rememberedClient(t.deps, authorization, t.form))
        await authenticateClient(t.deps, authorization, t.form);
    }
    expect(t.deps.verified!.size()).toBe(1);
    expect(t.hashes()).toBe(1);
    expect(rememberedClient(t.deps, spelling(9_999), t.form)).toMatchObject({
      appliance: { clientId: CLIENT },
    });
  });
});
