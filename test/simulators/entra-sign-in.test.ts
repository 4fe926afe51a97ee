/**
 * The Entra simulator's OpenID Connect sign-in on the wire: `/{tenant}/oauth2/v2.0/authorize` (sessions,
 * prompt=none, the sign-in page, AADSTS50011 / 50020), the `authorization_code` grant (PKCE, single use,
 * expiry, binding to redirect URI and tenant) and the v2 ID token's claims (FACTS.md §14;
 * MicrosoftDocs/entra-docs:docs/identity-platform/v2-oauth2-auth-code-flow.md). Every tenant and app is
 * the test's own.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { control, newTenant } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const REDIRECT = 'https://isv.example/consent/signin';
const CALLBACK = 'https://isv.example/consent/callback';

interface TestApp {
  appId: string;
  secret: string;
}

async function newApp(
  extra: { groupMembershipClaims?: string; idTokenOptionalClaims?: string[] } = {},
): Promise<TestApp> {
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Sign-in test app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: [CALLBACK, REDIRECT],
    requiredRoles: { [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'] },
    ...extra,
  });
  const { value } = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  return { appId: app.appId, secret: value };
}

async function addUser(tenant: string, upn: string, more: Record<string, unknown> = {}) {
  return control<{ objectId: string; userPrincipalName: string }>('POST', `/_sim/tenants/${tenant}/users`, {
    userPrincipalName: upn,
    ...more,
  });
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(tenant: string, appId: string, params: Record<string, string> = {}): string {
  return `${entra()}/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    state: 'st-1',
    nonce: 'n-1',
    ...params,
  })}`;
}

async function get(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

/** POSTs the sign-in page's form, as a browser would after the person picked or typed an account. */
async function signInForm(url: string, login: string): Promise<{ res: Response; cookie: string }> {
  const u = new URL(url);
  const params = new URLSearchParams(u.searchParams);
  params.delete('prompt');
  params.set('login', login);
  const res = await fetch(`${u.origin}${u.pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie: setCookie.split(';')[0]! };
}

function location(res: Response): URL {
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function redeem(tenant: string, form: Record<string, string>) {
  const res = await fetch(`${entra()}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function expectAadsts(
  r: { status: number; body: Record<string, unknown> },
  error: string,
  code: number,
  status = 400,
) {
  expect({ status: r.status, error: r.body.error, codes: r.body.error_codes }).toEqual({
    status,
    error,
    codes: [code],
  });
  expect(r.body.error_description).toMatch(new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: `, 's'));
}

async function verifyIdToken(tenant: string, token: string, appId: string): Promise<JWTPayload> {
  const jwks = createLocalJWKSet(
    (await (await fetch(`${entra()}/${tenant}/discovery/v2.0/keys`)).json()) as JSONWebKeySet,
  );
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    audience: appId,
    algorithms: ['RS256'],
  });
  expect(protectedHeader.kid).toEqual(expect.any(String));
  return payload;
}

/** A customer tenant with a Global Administrator, a member without role, and the app consented. */
async function customer(app: TestApp, name: string) {
  const id = await newTenant(name);
  const ga = await addUser(id, `ga@${id}.example`, { directoryRoles: [GLOBAL_ADMIN] });
  const member = await addUser(id, `user@${id}.example`);
  await control('POST', `/_sim/tenants/${id}/consents`, { appId: app.appId });
  return { id, ga, member };
}

describe('Entra simulator: /authorize (FACTS.md §14, v2-oauth2-auth-code-flow)', () => {
  let app: TestApp;
  let t: Awaited<ReturnType<typeof customer>>;

  beforeAll(async () => {
    app = await newApp({ groupMembershipClaims: 'DirectoryRole', idTokenOptionalClaims: ['acct'] });
    t = await customer(app, 'Sign-in customer');
  });

  it('answers prompt=none at once with a code after the admin signed in on the admin-consent page', async () => {
    const fresh = await newApp();
    const tenant = await newTenant('Consent then sign-in');
    await addUser(tenant, `ga@${tenant}.example`, { directoryRoles: [GLOBAL_ADMIN] });
    const consent = await fetch(`${entra()}/${tenant}/v2.0/adminconsent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: fresh.appId,
        redirect_uri: CALLBACK,
        scope: 'https://graph.microsoft.com/.default',
        state: 'c-1',
        user: `ga@${tenant}.example`,
        decision: 'approve',
      }).toString(),
    });
    expect(location(consent).searchParams.get('admin_consent')).toBe('True');
    // ESTSAUTH-like: the session cookie on Entra's own host.
    const setCookie = consent.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^ESTSAUTH=[A-Za-z0-9_-]{20,}; path=\/; secure; HttpOnly; SameSite=None$/);
    const loc = location(
      await get(authorizeUrl(tenant, fresh.appId, { prompt: 'none' }), setCookie.split(';')[0]),
    );
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect([...loc.searchParams.keys()]).toEqual(['code', 'state']);
    expect(loc.searchParams.get('state')).toBe('st-1');
  });

  it('redirects prompt=none without a session with login_required and AADSTS50058', async () => {
    const loc = location(await get(authorizeUrl(t.id, app.appId, { prompt: 'none' })));
    expect(loc.searchParams.get('error')).toBe('login_required');
    expect(loc.searchParams.get('error_description')).toMatch(/^AADSTS50058: .*\r\nTrace ID: /s);
    expect(loc.searchParams.get('state')).toBe('st-1');
    expect(loc.searchParams.has('code')).toBe(false);
  });

  it('shows a sign-in page listing the tenant’s users whose form POSTs back, then signs in silently', async () => {
    const url = authorizeUrl(t.id, app.appId);
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain(`ga@${t.id}.example`);
    expect(html).toContain(`user@${t.id}.example`);
    expect(html).toContain(`<form method="post" action="/${t.id}/oauth2/v2.0/authorize">`);
    const { res, cookie } = await signInForm(url, `user@${t.id}.example`);
    expect(location(res).searchParams.get('code')).toMatch(/^1\./);
    // The session now answers prompt=none; prompt=login still shows the page.
    expect(
      location(await get(authorizeUrl(t.id, app.appId, { prompt: 'none' }), cookie)).searchParams.has('code'),
    ).toBe(true);
    expect((await get(authorizeUrl(t.id, app.appId, { prompt: 'login' }), cookie)).status).toBe(200);
  });

  it('shows an AADSTS50011 page, never a redirect, for an unregistered redirect_uri (FACTS.md §1.4)', async () => {
    const res = await get(authorizeUrl(t.id, app.appId, { redirect_uri: 'https://attacker.example/cb' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS50011');
  });

  it('shows an AADSTS90002 page for an unknown tenant', async () => {
    const res = await get(authorizeUrl('nosuchtenant.example', app.appId));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('AADSTS90002');
  });

  it('redirects protocol errors: a missing scope (900144) and a short code_challenge (501491)', async () => {
    const noScope = location(await get(authorizeUrl(t.id, app.appId, { scope: '' })));
    expect(noScope.searchParams.get('error')).toBe('invalid_request');
    expect(noScope.searchParams.get('error_description')).toMatch(/^AADSTS900144: /);
    const short = location(
      await get(authorizeUrl(t.id, app.appId, { code_challenge: 'abc', code_challenge_method: 'S256' })),
    );
    expect(short.searchParams.get('error_description')).toMatch(/^AADSTS501491: /);
  });

  it('refuses a user of another tenant who is no guest here: AADSTS50020 page, and interaction_required (16000) for prompt=none', async () => {
    const other = await newTenant('Other company');
    await addUser(other, `admin@${other}.example`, { directoryRoles: [GLOBAL_ADMIN] });
    const { res, cookie } = await signInForm(authorizeUrl(t.id, app.appId), `admin@${other}.example`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS50020');
    const loc = location(await get(authorizeUrl(t.id, app.appId, { prompt: 'none' }), cookie));
    expect(loc.searchParams.get('error')).toBe('interaction_required');
    expect(loc.searchParams.get('error_description')).toMatch(/^AADSTS16000: /);
  });

  it('asks for consent (interaction_required, 65001) when the app has no service principal in the tenant', async () => {
    const bare = await newTenant('No consent yet');
    await addUser(bare, `ga@${bare}.example`, { directoryRoles: [GLOBAL_ADMIN] });
    const elsewhere = await signInForm(authorizeUrl(t.id, app.appId), `ga@${t.id}.example`);
    const guestless = location(
      await get(authorizeUrl(bare, app.appId, { prompt: 'none' }), elsewhere.cookie),
    );
    expect(guestless.searchParams.get('error_description')).toMatch(/^AADSTS16000: /);
    const own = await signInForm(authorizeUrl(bare, app.appId, { prompt: 'login' }), `ga@${bare}.example`);
    // Interactive sign-in consents for the user (creates the service principal, without app roles).
    expect(location(own.res).searchParams.has('code')).toBe(true);
    const sp = await control<{ servicePrincipals: { appId: string; grantedRoles: object }[] }>(
      'GET',
      `/_sim/tenants/${bare}`,
    );
    expect(sp.servicePrincipals.find((s) => s.appId === app.appId)?.grantedRoles).toEqual({});
  });
});

describe('Entra simulator: authorization_code grant and the v2 ID token', () => {
  let app: TestApp;
  let plainApp: TestApp;
  let t: Awaited<ReturnType<typeof customer>>;

  beforeAll(async () => {
    app = await newApp({ groupMembershipClaims: 'DirectoryRole', idTokenOptionalClaims: ['acct'] });
    plainApp = await newApp();
    t = await customer(app, 'Code customer');
    await control('POST', `/_sim/tenants/${t.id}/consents`, { appId: plainApp.appId });
  });

  async function codeFor(
    login: string,
    opts: { tenant?: string; appId?: string; params?: Record<string, string> } = {},
  ): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(opts.tenant ?? t.id, opts.appId ?? app.appId, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...opts.params,
    });
    const { res } = await signInForm(url, login);
    return { code: location(res).searchParams.get('code')!, verifier };
  }

  const redeemForm = (code: string, verifier: string, a: TestApp = app) => ({
    client_id: a.appId,
    client_secret: a.secret,
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    scope: 'openid profile',
  });

  it('redeems a code for an ID token with tid, oid, pairwise sub, nonce, wids and acct=0 (FACTS.md §14)', async () => {
    const { code, verifier } = await codeFor(`ga@${t.id}.example`);
    const r = await redeem(t.id, redeemForm(code, verifier));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(
      ['access_token', 'expires_in', 'ext_expires_in', 'id_token', 'scope', 'token_type'].sort(),
    );
    expect(r.body.token_type).toBe('Bearer');
    const claims = await verifyIdToken(t.id, r.body.id_token as string, app.appId);
    expect(claims).toMatchObject({
      tid: t.id,
      oid: t.ga.objectId,
      nonce: 'n-1',
      preferred_username: `ga@${t.id}.example`,
      name: 'ga',
      ver: '2.0',
      wids: [GLOBAL_ADMIN],
      acct: 0,
    });
    expect(claims.idp).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.sub).not.toBe(t.ga.objectId);
    // sub is pairwise: another app gets another sub for the same user, the same oid.
    const other = await codeFor(`ga@${t.id}.example`, { appId: plainApp.appId });
    const r2 = await redeem(t.id, redeemForm(other.code, other.verifier, plainApp));
    const claims2 = decodeJwt(r2.body.id_token as string);
    expect(claims2.oid).toBe(t.ga.objectId);
    expect(claims2.sub).not.toBe(claims.sub);
    // Without groupMembershipClaims / optional claims: no wids, no acct.
    expect(claims2.wids).toBeUndefined();
    expect(claims2.acct).toBeUndefined();
  });

  it('gives a guest the resource tenant’s tid, acct=1 and their home tenant as idp (FACTS.md §14)', async () => {
    const home = await newTenant('Guest home');
    await addUser(home, `partner@${home}.example`, { directoryRoles: [GLOBAL_ADMIN] });
    const guest = await addUser(t.id, `partner_${home}.example#EXT#@${t.id}.example`, {
      guestFromTenant: home,
      directoryRoles: [GLOBAL_ADMIN],
    });
    // Typing the home account signs in as the guest account of the resource tenant.
    const { code, verifier } = await codeFor(`partner@${home}.example`);
    const r = await redeem(t.id, redeemForm(code, verifier));
    const claims = await verifyIdToken(t.id, r.body.id_token as string, app.appId);
    expect(claims).toMatchObject({
      tid: t.id,
      oid: guest.objectId,
      acct: 1,
      idp: `https://sts.windows.net/${home}/`,
      wids: [GLOBAL_ADMIN],
    });
    expect(claims.idp).not.toBe(claims.iss);
  });

  it('refuses a code_verifier that does not match the challenge: invalid_grant AADSTS501481', async () => {
    const { code } = await codeFor(`user@${t.id}.example`);
    expectAadsts(await redeem(t.id, redeemForm(code, pkce().verifier)), 'invalid_grant', 501481);
  });

  it('accepts a plain code_challenge ("supports both plain and S256", v2-oauth2-auth-code-flow)', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const { res } = await signInForm(
      authorizeUrl(t.id, app.appId, { code_challenge: verifier, code_challenge_method: 'plain' }),
      `user@${t.id}.example`,
    );
    const code = location(res).searchParams.get('code')!;
    expect((await redeem(t.id, redeemForm(code, verifier))).status).toBe(200);
  });

  it('refuses a second redemption of a code: invalid_grant AADSTS54005', async () => {
    const { code, verifier } = await codeFor(`user@${t.id}.example`);
    expect((await redeem(t.id, redeemForm(code, verifier))).status).toBe(200);
    expectAadsts(await redeem(t.id, redeemForm(code, verifier)), 'invalid_grant', 54005);
  });

  it('refuses an expired code (AADSTS70008) and an unknown one (AADSTS9002313)', async () => {
    const quick = await customer(app, 'Short code lifetime');
    await control('PUT', `/_sim/tenants/${quick.id}/auth-code-lifetime`, { seconds: 0 });
    const { code, verifier } = await codeFor(`user@${quick.id}.example`, { tenant: quick.id });
    expectAadsts(await redeem(quick.id, redeemForm(code, verifier)), 'invalid_grant', 70008);
    expectAadsts(await redeem(t.id, redeemForm('1.not-a-code', verifier)), 'invalid_grant', 9002313);
  });

  it('binds the code to redirect_uri (AADSTS500112), tenant (AADSTS700005) and client credential (7000218)', async () => {
    const a = await codeFor(`user@${t.id}.example`);
    expectAadsts(
      await redeem(t.id, { ...redeemForm(a.code, a.verifier), redirect_uri: CALLBACK }),
      'invalid_grant',
      500112,
    );
    const b = await codeFor(`user@${t.id}.example`);
    const elsewhere = await customer(app, 'Wrong tenant for the code');
    expectAadsts(await redeem(elsewhere.id, redeemForm(b.code, b.verifier)), 'invalid_grant', 700005);
    const c = await codeFor(`user@${t.id}.example`);
    const { client_secret: _omit, ...noSecret } = redeemForm(c.code, c.verifier);
    expectAadsts(await redeem(t.id, noSecret), 'invalid_client', 7000218, 401);
  });

  it('adds a refresh token only for offline_access, and answers client_info=1', async () => {
    const { code, verifier } = await codeFor(`user@${t.id}.example`, {
      params: { scope: 'openid profile offline_access' },
    });
    const r = await redeem(t.id, { ...redeemForm(code, verifier), client_info: '1' });
    expect(r.body.refresh_token).toEqual(expect.any(String));
    expect(JSON.parse(Buffer.from(r.body.client_info as string, 'base64url').toString())).toEqual({
      uid: t.member.objectId,
      utid: t.id,
    });
  });

  it('signs in through /organizations: the code carries the user’s own tenant', async () => {
    const { code, verifier } = await codeFor(`ga@${t.id}.example`, { tenant: 'organizations' });
    const r = await redeem('organizations', redeemForm(code, verifier));
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.id_token as string).tid).toBe(t.id);
  });
});
