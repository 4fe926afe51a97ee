/**
 * The token endpoint's warm path (`vendFromMemory`, src/vending/issue.ts) answers exactly when the full grant
 * (`issueToken`) would answer, with the same token, scope and usage count, and never stands in for a refusal:
 * in every state where `issueToken` refuses, the warm path gives way (undefined) and the full path names the
 * cause. Ports are the domain's own small in-memory ones; the broker's wiring is covered by
 * test/integration/token-endpoint.test.ts through real sockets.
 * @module
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordDirectory } from '../../src/directory/record-directory.js';
import type { ApplianceStore } from '../../src/appliances/appliance-store.js';
import { loadProfiles, type Profiles } from '../../src/profiles/profiles.js';
import type { TenantStore } from '../../src/tenants/tenant-store.js';
import {
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  TooManyFailedAuthentications,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '../../src/vending/errors.js';
import { issueToken, vendFromMemory, type TokenRequest } from '../../src/vending/issue.js';
import { createTokenCache } from '../../src/vending/token-cache.js';
import { EXCHANGE, TENANT, vendSetup } from '../helpers/vend-deps.js';

let profiles: Profiles;
beforeAll(async () => {
  profiles = await loadProfiles(undefined);
});
const setup = () => vendSetup(profiles);

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

  const refusals: [
    string,
    (s: ReturnType<typeof vendSetup>) => TokenRequest,
    new (...a: never[]) => Error,
  ][] = [
    ['no grant_type', (s) => s.request({ grant_type: '' }), InvalidRequest],
    ['another grant type', (s) => s.request({ grant_type: 'password' }), UnsupportedGrantType],
    [
      'a scope the profiles do not allow',
      (s) => s.request({ scope: 'https://graph.microsoft.com/.default' }),
      InvalidScope,
    ],
    ['two scopes', (s) => s.request({ scope: `${EXCHANGE} ${EXCHANGE}` }), InvalidScope],
    [
      // A delegated profile is reached as a user who signed in, never with the app's own roles.
      "client credentials for a delegated profile's resource",
      (s) => ((s.state.appliance = { ...s.state.appliance!, profiles: ['user-imap'] }), s.request()),
      InvalidScope,
    ],
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
      // The warm path has answered this body before: it kept what the checks passed on.
      expect(vendFromMemory(s.deps, s.request())?.scope).toBe(EXCHANGE);
      const req = make(s);
      expect(vendFromMemory(s.deps, req)).toBeUndefined();
      await expect(issueToken(s.deps, req)).rejects.toBeInstanceOf(refusal);
      expect(s.state.usage).toHaveLength(2);
    });
  }
});

describe('the warm path over the real directory', () => {
  it('holds the tenant after first use, and sees a change to it at once (invalidated here)', async () => {
    const s = vendSetup(profiles);
    const rows = { appliance: s.state.appliance!, tenant: s.state.tenant! };
    const directory = createRecordDirectory({
      appliances: { get: async () => rows.appliance } as unknown as ApplianceStore,
      tenants: { get: async () => rows.tenant } as unknown as TenantStore,
    });
    const deps = { ...s.deps, directory };
    await issueToken(deps, s.request());
    expect(vendFromMemory(deps, s.request())?.scope).toBe(EXCHANGE); // holds the tenant now
    expect(vendFromMemory(deps, s.request())?.scope).toBe(EXCHANGE); // through the hold

    rows.tenant = { ...rows.tenant, status: 'revoked' };
    directory.invalidate('tenant', rows.tenant.tenantId);
    expect(vendFromMemory(deps, s.request())).toBeUndefined();
    await expect(issueToken(deps, s.request())).rejects.toBeInstanceOf(InvalidGrant);
    expect(vendFromMemory(deps, s.request())).toBeUndefined(); // held again, and revoked

    rows.tenant = { ...rows.tenant, status: 'active' };
    directory.invalidate('tenant', rows.tenant.tenantId);
    expect(vendFromMemory(deps, s.request())).toBeUndefined(); // its entry is gone: the full way reads it
    expect((await issueToken(deps, s.request())).scope).toBe(EXCHANGE);
    expect(vendFromMemory(deps, s.request())?.scope).toBe(EXCHANGE);
    expect(s.state.hashes).toBe(1); // the appliance never changed: its credentials stayed verified
  });
});

describe('the warm path with the token cache and usage counter it holds', () => {
  it('answers a repeated body through what it kept, and gives way once the token entry is dropped', async () => {
    const s = vendSetup(profiles);
    let fetched = 0;
    const tokens = createTokenCache({
      entra: {
        acquireAppToken: async (tenantId) => ({
          accessToken: `eyJ0.${++fetched}.sig`,
          expiresOn: new Date(Date.now() + 3_600_000),
          roles: ['IMAP.AccessAsApp'],
          servicePrincipalId: 'sp',
          tenantId,
        }),
      },
    });
    const counted: string[] = [];
    const deps = {
      ...s.deps,
      now: () => new Date(),
      tokens: { of: () => tokens },
      usageCounter: (clientId: string) => () => void counted.push(`counter ${clientId}`),
      recordUsage: (clientId: string) => void counted.push(`record ${clientId}`),
    };
    const id = s.appliance.clientId;
    const req = s.request();
    expect((await issueToken(deps, req)).token.accessToken).toBe('eyJ0.1.sig');
    for (let i = 0; i < 3; i++) expect(vendFromMemory(deps, req)?.token.accessToken).toBe('eyJ0.1.sig');
    // The first warm answer ran the checks and kept their outcome; the next two compared identities only.
    expect(counted).toEqual([`record ${id}`, `record ${id}`, `counter ${id}`, `counter ${id}`]);
    expect(tokens.stats()).toMatchObject({ entraRequests: 1, hits: 3 });

    tokens.forgetTenant(TENANT); // the held entry is dropped: the warm path gives way, the full one fetches
    expect(vendFromMemory(deps, req)).toBeUndefined();
    expect((await issueToken(deps, req)).token.accessToken).toBe('eyJ0.2.sig');
    expect(vendFromMemory(deps, req)?.token.accessToken).toBe('eyJ0.2.sig');
    expect(vendFromMemory(deps, req)?.token.accessToken).toBe('eyJ0.2.sig');
    expect(counted.slice(4)).toEqual([`record ${id}`, `record ${id}`, `counter ${id}`]);
    tokens.close();
  });

  it('checks again when the same body comes with another tenant in the path', async () => {
    const s = vendSetup(profiles);
    await issueToken(s.deps, s.request());
    expect(vendFromMemory(s.deps, s.request())?.scope).toBe(EXCHANGE);
    const other = s.request({}, { pathTenant: 'fabrikam.example' });
    expect(other.form).toBe(s.request().form);
    expect(vendFromMemory(s.deps, other)).toBeUndefined();
    await expect(issueToken(s.deps, other)).rejects.toBeInstanceOf(UnauthorizedClient);
    expect(vendFromMemory(s.deps, s.request({}, { pathTenant: 'contoso.example' }))?.scope).toBe(EXCHANGE);
  });
});
