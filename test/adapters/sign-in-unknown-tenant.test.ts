/**
 * The admin sign-in adapter checks that Entra knows the tenant before it hands out an authorize URL,
 * configured as in production: on login.microsoftonline.com MSAL takes the authority's endpoints from
 * its built-in table and asks the network nothing (`npm:@azure/msal-common@16.17.0:dist/authority/
 * AuthorityMetadata.mjs` EndpointMetadata; `Authority.mjs` updateEndpointMetadataFromLocalSources), so
 * without the adapter's own check a forged callback naming an unknown tenant gets a URL to Microsoft's error
 * page. Here MSAL is given the same built-in table for the simulator's host (`builtInMetadataFor`), the one
 * thing that differs from production: the simulator plays Entra, the adapter and MSAL are the real ones.
 * @module
 */
import { PUBLIC_CLOUD } from '../../src/cloud/clouds.js';
import { randomUUID } from 'node:crypto';
import { Authority } from '@azure/msal-common/node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { control, newTenant } from '../helpers/sim-control.js';
import { TENANT_CHECK_TTL_MS, createMsalAdminSignIn } from '../../src/adapters/entra/msal-sign-in.js';
import { EntraUnavailable } from '../../src/adapters/entra/port.js';
import { SignInRefused, newPkcePair, type AdminSignIn } from '../../src/adapters/entra/sign-in.js';

const REDIRECT = 'https://broker.example/consent/signin';

type HardcodedLookup = (this: { hostnameAndPort: string }) => unknown;

/**
 * Makes MSAL treat `host` as one of Microsoft's own: endpoint metadata from its built-in table, built as MSAL
 * builds it for login.microsoftonline.com (AuthorityMetadata.mjs buildOpenIdConfig). Returns the undo.
 */
function builtInMetadataFor(host: string): () => void {
  const proto = Authority.prototype as unknown as { getEndpointMetadataFromHardcodedValues: HardcodedLookup };
  const original = proto.getEndpointMetadataFromHardcodedValues;
  proto.getEndpointMetadataFromHardcodedValues = function (this: { hostnameAndPort: string }) {
    if (this.hostnameAndPort !== host.toLowerCase()) return original.call(this);
    return {
      token_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/token`,
      jwks_uri: `https://${host}/{tenantid}/discovery/v2.0/keys`,
      issuer: `https://${host}/{tenantid}/v2.0`,
      authorization_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/authorize`,
      end_session_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/logout`,
    };
  };
  return () => {
    proto.getEndpointMetadataFromHardcodedValues = original;
  };
}

async function rejection<T extends Error>(p: Promise<unknown>, type: new (...a: never[]) => T): Promise<T> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

describe('createMsalAdminSignIn with MSAL’s built-in endpoints, as on login.microsoftonline.com', () => {
  let appId: string;
  let secret: string;
  let restore: () => void;
  let metadataRequests: string[];

  function adapter(extra: { maxTenants?: number; timeoutMs?: number } = {}): AdminSignIn {
    return createMsalAdminSignIn({
      authorityHost: inject('entraUrl'),
      issuers: PUBLIC_CLOUD,
      clientId: appId,
      credential: { kind: 'secret', secret },
      metrics: { entraRequest: (s) => void (s.request === 'metadata' && metadataRequests.push(s.outcome)) },
      ...extra,
    });
  }

  const url = (signIn: AdminSignIn, tenantId: string) =>
    signIn.authorizationUrl({
      tenantId,
      redirectUri: REDIRECT,
      state: 's',
      nonce: 'n',
      codeChallenge: newPkcePair().challenge,
      prompt: 'none',
    });

  beforeAll(async () => {
    restore = builtInMetadataFor(new URL(inject('entraUrl')).host);
    const app = await control<{ appId: string }>('POST', '/_sim/apps', {
      displayName: 'Unknown tenant check app',
      homeTenantId: inject('sandbox').vendorTenantId,
      multitenant: true,
      redirectUris: [REDIRECT],
    });
    appId = app.appId;
    secret = (await control<{ value: string }>('POST', `/_sim/apps/${appId}/secrets`, {})).value;
  });
  afterAll(() => restore?.());
  afterEach(async () => {
    vi.useRealTimers();
    await control('DELETE', '/_sim/faults');
  });

  it('refuses a tenant Microsoft does not know with SignInRefused AADSTS90002, though MSAL asks nothing', async () => {
    metadataRequests = [];
    const err = await rejection(url(adapter(), randomUUID()), SignInRefused);
    expect({ error: err.error, aadsts: err.aadsts }).toEqual({ error: 'invalid_tenant', aadsts: '90002' });
    expect(err.message).toMatch(/^AADSTS90002: Tenant '[0-9a-f-]{36}' not found/);
    // The one request made was the adapter's own look at the tenant's OpenID configuration.
    expect(metadataRequests).toEqual(['refused']);
  });

  it('builds the URL for a known tenant, and remembers the tenant for a while, bounded by maxTenants', async () => {
    metadataRequests = [];
    const signIn = adapter({ maxTenants: 2 });
    const [a, b, c] = [await newTenant('Check A'), await newTenant('Check B'), await newTenant('Check C')];
    const first = new URL(await url(signIn, a));
    expect(`${first.origin}${first.pathname}`).toBe(`${inject('entraUrl')}/${a}/oauth2/v2.0/authorize`);
    expect(metadataRequests).toEqual(['ok']);
    await url(signIn, a);
    expect(metadataRequests).toHaveLength(1); // remembered
    await url(signIn, b);
    await url(signIn, c); // a is the least recently used of three: dropped
    expect(metadataRequests).toHaveLength(3);
    await url(signIn, c);
    expect(metadataRequests).toHaveLength(3);
    await url(signIn, a);
    expect(metadataRequests).toHaveLength(4);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + TENANT_CHECK_TTL_MS + 1_000);
    await url(signIn, a); // known for too long: asked again
    expect(metadataRequests).toHaveLength(5);
  });

  it('reports an outage of the OpenID configuration (5xx, timeout) as EntraUnavailable, and remembers nothing', async () => {
    metadataRequests = [];
    const tenant = await newTenant('Check outage');
    const signIn = adapter({ timeoutMs: 300 });
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 7,
      pathContains: `${tenant}/v2.0/.well-known/openid-configuration`,
      count: 1,
    });
    const down = await rejection(url(signIn, tenant), EntraUnavailable);
    expect(down.retryAfterSeconds).toBe(7);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'slow',
      delayMs: 1_500,
      pathContains: `${tenant}/v2.0/.well-known/openid-configuration`,
      count: 1,
    });
    await rejection(url(signIn, tenant), EntraUnavailable);
    expect(metadataRequests).toEqual(['unavailable', 'unavailable']);
    // Entra well again: the tenant is looked at anew and the URL built.
    expect(await url(signIn, tenant)).toContain(`/${tenant}/oauth2/v2.0/authorize?`);
  });
});
