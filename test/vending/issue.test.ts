/**
 * The token endpoint's warm path (`vendFromMemory`, src/vending/issue.ts) answers exactly when the full grant
 * (`issueToken`) would answer, with the same token, scope and usage count, and never stands in for a refusal:
 * in every state where `issueToken` refuses, the warm path gives way (undefined) and the full path names the
 * cause. Ports are the domain's own small in-memory ones; the broker's wiring is covered by
 * test/integration/token-endpoint.test.ts through real sockets.
 * @module
 */
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOT_CACHED } from '../../src/appliances/appliance-directory.js';
import type { Appliance } from '../../src/appliances/appliance-store.js';
import { loadProfiles, type Profiles } from '../../src/profiles/profiles.js';
import { newTenantRecord, type TenantRecord } from '../../src/tenants/tenant-store.js';
import type { VendedToken } from '../../src/tokens/token-cache.js';
import { createAuthThrottle, DEFAULT_THROTTLE_LIMITS } from '../../src/vending/auth-throttle.js';
import {
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  TooManyFailedAuthentications,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '../../src/vending/errors.js';
import { issueToken, vendFromMemory, type TokenRequest, type VendDeps } from '../../src/vending/issue.js';
import { createVerifiedCredentials } from '../../src/vending/verified-credentials.js';
import { applianceRecord } from '../helpers/appliances.js';

const TENANT = 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90';
const EXCHANGE = 'https://outlook.office365.com/.default';
const KEY = Buffer.alloc(32, 9);
const hmac = (purpose: string, data: string) =>
  createHmac('sha256', KEY).update(`${purpose}\u0000${data}`).digest('base64url');

let profiles: Profiles;
beforeAll(async () => {
  profiles = await loadProfiles(undefined);
});

function setup() {
  const appliance: Appliance = applianceRecord({
    tenantId: TENANT,
    secrets: [
      {
        verifier: hmac('appliance-client-secret', 's3cret'),
        createdAt: '2026-01-01T00:00:00Z',
        validUntil: null,
      },
    ],
  });
  const state = {
    appliance: appliance as Appliance | undefined,
    tenant: {
      ...newTenantRecord(TENANT),
      status: 'active',
      verifiedDomains: ['contoso.example'],
      grantedRoles: { [EXCHANGE]: ['IMAP.AccessAsApp'] },
    } as TenantRecord | undefined,
    tenantCached: true,
    token: {
      accessToken: 'eyJ0.e30.sig',
      expiresOn: new Date(Date.parse('2026-11-25T13:00:00Z')),
    } as VendedToken | undefined,
    hashes: 0,
    usage: [] as string[],
  };
  const now = Date.parse('2026-11-25T12:00:00Z');
  const deps: VendDeps = {
    directory: {
      appliance: (id) => Promise.resolve(id === appliance.clientId ? state.appliance : undefined),
      tenant: (id) => Promise.resolve(id === TENANT ? state.tenant : undefined),
      peekAppliance: (id) => (id === appliance.clientId ? state.appliance : undefined),
      peekTenant: (id) => (!state.tenantCached ? NOT_CACHED : id === TENANT ? state.tenant : undefined),
      invalidate: () => undefined,
    },
    keys: {
      derive: (purpose, data) => {
        state.hashes++;
        return Promise.resolve(hmac(purpose, data));
      },
    },
    jtis: { use: () => Promise.resolve(true) },
    audiences: ['http://localhost:7071/oauth2/token'],
    now: () => new Date(now),
    verified: createVerifiedCredentials(),
    profiles,
    tokens: {
      get: () =>
        Promise.resolve(state.token ?? { accessToken: 'eyJ0.fresh.sig', expiresOn: new Date(now + 3e6) }),
      peek: () => state.token,
    },
    recordUsage: (clientId) => void state.usage.push(clientId),
    throttle: createAuthThrottle(DEFAULT_THROTTLE_LIMITS, () => now),
  };
  const request = (form: Record<string, string> = {}, extra: Partial<TokenRequest> = {}): TokenRequest => ({
    authorization: `Basic ${Buffer.from(`${appliance.clientId}:s3cret`).toString('base64')}`,
    form: new Map(Object.entries({ grant_type: 'client_credentials', scope: EXCHANGE, ...form })),
    sourceAddress: '203.0.113.7',
    ...extra,
  });
  return { appliance, state, deps, request };
}

describe('the warm path (vendFromMemory)', () => {
  it('answers as issueToken does, from memory, once the credentials were verified', async () => {
    const { appliance, state, deps, request } = setup();
    expect(vendFromMemory(deps, request())).toBeUndefined(); // never verified on this instance yet
    const full = await issueToken(deps, request());
    expect(state.hashes).toBe(1);
    const warm = vendFromMemory(deps, request());
    expect(warm).toEqual(full);
    expect(warm).toEqual({ token: state.token, expiresIn: 3600, scope: EXCHANGE });
    expect(vendFromMemory(deps, request({}, { pathTenant: 'Contoso.Example' }))?.scope).toBe(EXCHANGE);
    expect(vendFromMemory(deps, request({}, { pathTenant: 'organizations' }))?.scope).toBe(EXCHANGE);
    expect(state.hashes).toBe(1);
    expect(state.usage).toEqual([
      appliance.clientId,
      appliance.clientId,
      appliance.clientId,
      appliance.clientId,
    ]);
  });

  it('gives way to the full path where a read or Entra is needed', async () => {
    const { state, deps, request } = setup();
    await issueToken(deps, request());
    state.tenantCached = false;
    expect(vendFromMemory(deps, request())).toBeUndefined();
    state.tenantCached = true;
    state.token = undefined;
    expect(vendFromMemory(deps, request())).toBeUndefined();
    expect((await issueToken(deps, request())).token.accessToken).toBe('eyJ0.fresh.sig');
  });

  const refusals: [string, (s: ReturnType<typeof setup>) => TokenRequest, new (...a: never[]) => Error][] = [
    ['no grant_type', (s) => s.request({ grant_type: '' }), InvalidRequest],
    ['another grant type', (s) => s.request({ grant_type: 'password' }), UnsupportedGrantType],
    [
      'a scope the profiles do not allow',
      (s) => s.request({ scope: 'https://graph.microsoft.com/.default' }),
      InvalidScope,
    ],
    ['two scopes', (s) => s.request({ scope: `${EXCHANGE} ${EXCHANGE}` }), InvalidScope],
    [
      'another tenant in the path',
      (s) => s.request({}, { pathTenant: 'fabrikam.example' }),
      UnauthorizedClient,
    ],
    [
      'a revoked consent',
      (s) => ((s.state.tenant = { ...s.state.tenant!, status: 'revoked' }), s.request()),
      InvalidGrant,
    ],
    [
      'a consent still being verified',
      (s) => ((s.state.tenant = { ...s.state.tenant!, status: 'pending_verification' }), s.request()),
      InvalidGrant,
    ],
    [
      'an offboarded tenant',
      (s) => ((s.state.tenant = { ...s.state.tenant!, status: 'offboarded' }), s.request()),
      InvalidGrant,
    ],
    ['no consent recorded', (s) => ((s.state.tenant = undefined), s.request()), InvalidGrant],
    [
      'no role granted for the scope',
      (s) => ((s.state.tenant = { ...s.state.tenant!, grantedRoles: {} }), s.request()),
      InvalidGrant,
    ],
    [
      'a throttled client',
      (s) => {
        for (let i = 0; i < 50; i++) s.deps.throttle!.failure(s.appliance.clientId, '203.0.113.7');
        return s.request();
      },
      TooManyFailedAuthentications,
    ],
  ];
  for (const [what, make, refusal] of refusals) {
    it(`never answers for ${what}: the full path refuses`, async () => {
      const s = setup();
      await issueToken(s.deps, s.request()); // credentials, tenant and token all in memory
      const req = make(s);
      expect(vendFromMemory(s.deps, req)).toBeUndefined();
      await expect(issueToken(s.deps, req)).rejects.toBeInstanceOf(refusal);
      expect(s.state.usage).toHaveLength(1);
    });
  }
});
