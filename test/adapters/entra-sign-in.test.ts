/**
 * The admin sign-in adapter (real @azure/msal-node, real jose) against the Entra simulator over real
 * sockets, browser-free: the adapter builds the authorize URL, the test plays the browser with fetch
 * (`redirect: 'manual'`, carrying the simulator's session cookie itself), takes the code from the Location
 * header and hands it back to the adapter (FACTS.md §14, SPEC.md "Customers").
 * @module
 */
import { PUBLIC_CLOUD } from '../../src/cloud/clouds.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, beforeAll } from 'vitest';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { createMsalAdminSignIn } from '../../src/adapters/entra/msal-sign-in.js';
import type { EntraCredential } from '../../src/adapters/entra/tenant-clients.js';
import { EntraUnavailable } from '../../src/adapters/entra/port.js';
import {
  SignInRefused,
  codeChallengeFor,
  newPkcePair,
  type AdminSignIn,
} from '../../src/adapters/entra/sign-in.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const REDIRECT = 'https://broker.example/consent/signin';

interface TestApp {
  appId: string;
  secret: string;
}

async function newApp(extra: Record<string, unknown> = {}): Promise<TestApp> {
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Sign-in adapter app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: [REDIRECT],
    requiredRoles: { '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'] },
    ...extra,
  });
  const { value } = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  return { appId: app.appId, secret: value };
}

function adapterFor(appId: string, credential: EntraCredential): AdminSignIn {
  return createMsalAdminSignIn({
    authorityHost: inject('entraUrl'),
    issuers: PUBLIC_CLOUD,
    clientId: appId,
    credential,
  });
}

async function addUser(tenant: string, upn: string, more: Record<string, unknown> = {}) {
  return control<{ objectId: string }>('POST', `/_sim/tenants/${tenant}/users`, {
    userPrincipalName: upn,
    ...more,
  });
}

/** A browser on the sign-in page: GET it, fill the real form's hidden fields, type `login`, POST it. */
async function signInAtPage(url: string, login: string): Promise<{ location: URL; cookie: string }> {
  const page = await fetch(url, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    ([, k, v]) =>
      [
        k!,
        v!
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&amp;/g, '&'),
      ] as [string, string],
  );
  const res = await fetch(`${new URL(url).origin}${action}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([...fields, ['login', login]]).toString(),
  });
  expect(res.status).toBe(302);
  return {
    location: new URL(res.headers.get('location')!),
    cookie: res.headers.get('set-cookie')!.split(';')[0]!,
  };
}

/** The whole flow: a session from the sign-in form, then the adapter's prompt=none URL answered silently. */
async function signInSilently(
  adapter: AdminSignIn,
  tenantId: string,
  login: string,
): Promise<{ code: string; verifier: string; nonce: string }> {
  const first = newPkcePair();
  const interactive = await adapter.authorizationUrl({
    tenantId,
    redirectUri: REDIRECT,
    state: 'first',
    nonce: 'nonce-first',
    codeChallenge: first.challenge,
  });
  const { cookie } = await signInAtPage(interactive, login);
  const { verifier, challenge } = newPkcePair();
  const nonce = `nonce-${Math.random()}`;
  const url = await adapter.authorizationUrl({
    tenantId,
    redirectUri: REDIRECT,
    state: 'st-silent',
    nonce,
    codeChallenge: challenge,
    prompt: 'none',
  });
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  expect(res.status).toBe(302);
  const loc = new URL(res.headers.get('location')!);
  expect(loc.searchParams.get('state')).toBe('st-silent');
  return { code: loc.searchParams.get('code')!, verifier, nonce };
}

async function rejection<T extends Error>(p: Promise<unknown>, type: new (...a: never[]) => T): Promise<T> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

describe('createMsalAdminSignIn against the Entra simulator', () => {
  let app: TestApp;
  let adapter: AdminSignIn;
  let tenant: string;
  let home: string;
  const users: Record<string, string> = {};

  beforeAll(async () => {
    app = await newApp({ groupMembershipClaims: 'DirectoryRole', idTokenOptionalClaims: ['acct'] });
    adapter = adapterFor(app.appId, { kind: 'secret', secret: app.secret });
    tenant = await newTenant('Adapter sign-in customer');
    home = await newTenant('Adapter guest home');
    users.ga = (await addUser(tenant, `ga@${tenant}.example`, { directoryRoles: [GLOBAL_ADMIN] })).objectId;
    users.member = (await addUser(tenant, `user@${tenant}.example`)).objectId;
    await addUser(home, `partner@${home}.example`);
    users.guest = (
      await addUser(tenant, `partner_${home}.example#EXT#@${tenant}.example`, {
        guestFromTenant: home,
        directoryRoles: [GLOBAL_ADMIN],
      })
    ).objectId;
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: app.appId });
  });

  it('builds the authorize URL of the named tenant: code + S256 PKCE + nonce + state, query response mode', async () => {
    const url = new URL(
      await adapter.authorizationUrl({
        tenantId: tenant,
        redirectUri: REDIRECT,
        state: 's',
        nonce: 'n',
        codeChallenge: codeChallengeFor('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
        prompt: 'none',
        loginHint: `ga@${tenant}.example`,
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${inject('entraUrl')}/${tenant}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: app.appId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      response_mode: 'query',
      state: 's',
      nonce: 'n',
      // RFC 7636 Appendix B: the example verifier's S256 challenge.
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      prompt: 'none',
      login_hint: `ga@${tenant}.example`,
    });
    // MSAL adds offline_access to the OIDC scopes (msal-common RequestParameterBuilder addScopes).
    expect(url.searchParams.get('scope')!.split(' ').sort()).toEqual(['offline_access', 'openid', 'profile']);
  });

  it('signs in a Global Administrator: tid, oid, name, wids, member', async () => {
    const { code, verifier, nonce } = await signInSilently(adapter, tenant, `ga@${tenant}.example`);
    const user = await adapter.redeemCode({
      tenantId: tenant,
      code,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      nonce,
    });
    expect(user).toEqual({
      tenantId: tenant,
      objectId: users.ga,
      displayName: 'ga',
      directoryRoleIds: [GLOBAL_ADMIN],
      // No app role of this app is assigned to a customer's admin.
      appRoles: [],
      isGuest: false,
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    });
  });

  it('signs in a member without a directory role: directoryRoleIds []', async () => {
    const { code, verifier, nonce } = await signInSilently(adapter, tenant, `user@${tenant}.example`);
    const user = await adapter.redeemCode({
      tenantId: tenant,
      code,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      nonce,
    });
    expect(user).toMatchObject({
      tenantId: tenant,
      objectId: users.member,
      directoryRoleIds: [],
      isGuest: false,
    });
  });

  it('signs in a guest with the resource tenant’s tid and isGuest (acct=1)', async () => {
    const { code, verifier, nonce } = await signInSilently(adapter, tenant, `partner@${home}.example`);
    const user = await adapter.redeemCode({
      tenantId: tenant,
      code,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      nonce,
    });
    expect(user).toMatchObject({
      tenantId: tenant,
      objectId: users.guest,
      directoryRoleIds: [GLOBAL_ADMIN],
      isGuest: true,
    });
  });

  it('knows a guest by idp when the app does not ask for acct, and sees no wids without groupMembershipClaims', async () => {
    const bare = await newApp();
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: bare.appId });
    const plain = adapterFor(bare.appId, { kind: 'secret', secret: bare.secret });
    const { code, verifier, nonce } = await signInSilently(plain, tenant, `partner@${home}.example`);
    const user = await plain.redeemCode({
      tenantId: tenant,
      code,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      nonce,
    });
    expect(user).toMatchObject({ isGuest: true, directoryRoleIds: [] });
  });

  it('maps a wrong code_verifier to SignInRefused invalid_grant 501481, and a reused code to 54005', async () => {
    const { code, verifier, nonce } = await signInSilently(adapter, tenant, `ga@${tenant}.example`);
    const bad = await rejection(
      adapter.redeemCode({
        tenantId: tenant,
        code,
        redirectUri: REDIRECT,
        codeVerifier: newPkcePair().verifier,
        nonce,
      }),
      SignInRefused,
    );
    expect({ error: bad.error, aadsts: bad.aadsts }).toEqual({ error: 'invalid_grant', aadsts: '501481' });
    const again = await rejection(
      adapter.redeemCode({ tenantId: tenant, code, redirectUri: REDIRECT, codeVerifier: verifier, nonce }),
      SignInRefused,
    );
    expect(again.aadsts).toBe('54005');
  });

  it('rejects an ID token whose nonce is not the request’s (SignInRefused nonce_mismatch)', async () => {
    const { code, verifier } = await signInSilently(adapter, tenant, `ga@${tenant}.example`);
    const err = await rejection(
      adapter.redeemCode({
        tenantId: tenant,
        code,
        redirectUri: REDIRECT,
        codeVerifier: verifier,
        nonce: 'other',
      }),
      SignInRefused,
    );
    expect(err.error).toBe('nonce_mismatch');
  });

  it('refuses an unknown tenant (SignInRefused 90002) and reports outages as EntraUnavailable', async () => {
    const unknown = await rejection(
      adapter.authorizationUrl({
        tenantId: 'nosuchtenant.example',
        redirectUri: REDIRECT,
        state: 's',
        nonce: 'n',
        codeChallenge: newPkcePair().challenge,
      }),
      SignInRefused,
    );
    expect(unknown.aadsts).toBe('90002');

    const { code, verifier, nonce } = await signInSilently(adapter, tenant, `ga@${tenant}.example`);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 3,
      pathContains: `${tenant}/oauth2/v2.0/token`,
      count: 1,
    });
    const down = await rejection(
      adapter.redeemCode({ tenantId: tenant, code, redirectUri: REDIRECT, codeVerifier: verifier, nonce }),
      EntraUnavailable,
    );
    expect(down.retryAfterSeconds).toBe(3);
  });

  it('reports unreachable signing keys as EntraUnavailable (the ID token is never trusted unverified)', async () => {
    const fresh = adapterFor(app.appId, { kind: 'secret', secret: app.secret });
    const { code, verifier, nonce } = await signInSilently(fresh, tenant, `ga@${tenant}.example`);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: `${tenant}/discovery/v2.0/keys`,
      count: 1,
    });
    await rejection(
      fresh.redeemCode({ tenantId: tenant, code, redirectUri: REDIRECT, codeVerifier: verifier, nonce }),
      EntraUnavailable,
    );
  });

  it('redeems with a certificate credential (PS256 client assertion) as well', async () => {
    const certApp = await newApp({ groupMembershipClaims: 'DirectoryRole' });
    const cert = await selfSignedCertificate();
    await control('POST', `/_sim/apps/${certApp.appId}/certificates`, {
      certificatePem: cert.certificatePem,
    });
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: certApp.appId });
    const withCert = adapterFor(certApp.appId, {
      kind: 'certificate',
      privateKeyPem: cert.privateKeyPem,
      thumbprintSha256: cert.thumbprintSha256Hex,
    });
    const { code, verifier, nonce } = await signInSilently(withCert, tenant, `ga@${tenant}.example`);
    const user = await withCert.redeemCode({
      tenantId: tenant,
      code,
      redirectUri: REDIRECT,
      codeVerifier: verifier,
      nonce,
    });
    expect(user.directoryRoleIds).toEqual([GLOBAL_ADMIN]);
  });

  it('keeps at most 500 tenants of MSAL clients by default: callbacks naming 500 random tenants evict the first', async () => {
    let metadata = 0;
    const counted = createMsalAdminSignIn({
      authorityHost: inject('entraUrl'),
      issuers: PUBLIC_CLOUD,
      clientId: app.appId,
      credential: { kind: 'secret', secret: app.secret },
      metrics: { entraRequest: (s) => void (s.request === 'metadata' && metadata++) },
    });
    const url = (tenantId: string) =>
      counted.authorizationUrl({
        tenantId,
        redirectUri: REDIRECT,
        state: 's',
        nonce: 'n',
        codeChallenge: newPkcePair().challenge,
      });
    await url(tenant);
    const once = metadata;
    await url(tenant);
    expect(metadata).toBe(once); // its client, with the tenant's metadata, is kept
    for (let i = 0; i < 500; i++) await url(randomUUID()).catch(() => undefined);
    const before = metadata;
    await url(tenant);
    expect(metadata).toBeGreaterThan(before); // a new client: the first one was dropped
  }, 60_000);

  it('derives S256 challenges per RFC 7636 §4.2 and refuses malformed verifiers', () => {
    expect(codeChallengeFor('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    expect(() => codeChallengeFor('short')).toThrow(RangeError);
    const pair = newPkcePair();
    expect(pair.verifier).toHaveLength(43);
    expect(codeChallengeFor(pair.verifier)).toBe(pair.challenge);
  });
});
