/**
 * Token endpoint dependencies on the domain's own small in-memory ports: one bound client_secret appliance
 * (secret `s3cret`) of an active tenant that granted Exchange, a cached token, a fixed clock. For tests of
 * the grant and the endpoint above it; the broker's wiring is covered by test/integration/token-endpoint.
 * @module
 */
import { bundleApps } from '../../src/credentials/bundle-apps.js';
import { createHmac } from 'node:crypto';
import { NOT_CACHED } from '../../src/directory/record-directory.js';
import type { Appliance } from '../../src/appliances/appliance-store.js';
import type { Profiles } from '../../src/profiles/profiles.js';
import { newTenantRecord, type TenantRecord } from '../../src/tenants/tenant-store.js';
import type { VendedToken } from '../../src/vending/token-cache-contract.js';
import { createAuthThrottle, DEFAULT_THROTTLE_LIMITS } from '../../src/vending/auth-throttle.js';
import type { TokenRequest, VendDeps } from '../../src/vending/issue.js';
import { createVerifiedCredentials } from '../../src/vending/warm-path.js';
import { applianceRecord } from './appliances.js';

export const TENANT = 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90';
export const EXCHANGE = 'https://outlook.office365.com/.default';
const KEY = Buffer.alloc(32, 9);
const hmac = (purpose: string, data: string) =>
  createHmac('sha256', KEY).update(`${purpose}\u0000${data}`).digest('base64url');

export function vendSetup(profiles: Profiles) {
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
      // Holds that always see the current state (the real directory's holds: test/appliances/).
      holdAppliance: (id) => ({ peek: () => deps.directory.peekAppliance(id) }),
      holdTenant: (id) => ({ peek: () => deps.directory.peekTenant(id) }),
      grantByHandle: () => Promise.resolve(undefined),
      peekGrantByHandle: () => undefined,
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
      of: () => ({
        get: () =>
          Promise.resolve(state.token ?? { accessToken: 'eyJ0.fresh.sig', expiresOn: new Date(now + 3e6) }),
        peek: () => state.token,
        hold: () => ({ peek: () => state.token }),
      }),
    },
    apps: bundleApps(profiles, HOME_APP_ONLY),
    recordUsage: (clientId) => void state.usage.push(clientId),
    usageCounter: (clientId) => () => void state.usage.push(clientId),
    throttle: createAuthThrottle(DEFAULT_THROTTLE_LIMITS, () => now),
  };
  // The same parameters give the same parsed form, as the token endpoint's memo of bodies does.
  const forms = new Map<string, ReadonlyMap<string, string>>();
  const request = (form: Record<string, string> = {}, extra: Partial<TokenRequest> = {}): TokenRequest => {
    const params = { grant_type: 'client_credentials', scope: EXCHANGE, ...form };
    const key = JSON.stringify(params);
    if (!forms.has(key)) forms.set(key, new Map(Object.entries(params)));
    return {
      authorization: `Basic ${Buffer.from(`${appliance.clientId}:s3cret`).toString('base64')}`,
      form: forms.get(key)!,
      sourceAddress: '203.0.113.7',
      ...extra,
    };
  };
  return { appliance, state, deps, request };
}

/** The settings of a deployment with the home app alone (a profiles file without bundles). */
export const HOME_APP_ONLY = {
  homeAppClientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
  homeAppCredential: { kind: 'secret', secret: 'unused' },
  bundleApps: new Map(),
} as const;
