/**
 * The Entra ID simulator on the wire: discovery documents, token endpoint refusals and successes, client
 * assertions, admin-consent pages, and staff tokens — each checked against ../shared/FACTS.md.
 * @module
 */
import { SignJWT, createLocalJWKSet, decodeJwt, importPKCS8, jwtVerify, type JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { control } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const DIRECTORY_ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
};
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const EXO = 'https://outlook.office365.com/.default';

interface Tenant {
  id: string;
  servicePrincipals: { appId: string; objectId: string }[];
}

async function newTenant(name: string, hasExchangeOnline = true): Promise<Tenant> {
  const t = await control<Tenant>('POST', '/_sim/tenants', { displayName: name, hasExchangeOnline });
  await control('POST', `/_sim/tenants/${t.id}/users`, {
    userPrincipalName: `ga@${t.id}.example`,
    directoryRoles: [DIRECTORY_ROLES.globalAdministrator],
  });
  await control('POST', `/_sim/tenants/${t.id}/users`, {
    userPrincipalName: `caa@${t.id}.example`,
    directoryRoles: [DIRECTORY_ROLES.cloudApplicationAdministrator],
  });
  await control('POST', `/_sim/tenants/${t.id}/users`, { userPrincipalName: `user@${t.id}.example` });
  return t;
}

interface App {
  appId: string;
}

async function newApp(requiredRoles: Record<string, string[]>): Promise<{ appId: string; secret: string }> {
  const app = await control<App>('POST', '/_sim/apps', {
    displayName: 'Test ISV app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: ['https://isv.example/consent/callback'],
    requiredRoles,
  });
  const { value } = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  return { appId: app.appId, secret: value };
}

async function token(
  tenant: string,
  form: Record<string, string> | string,
  init: RequestInit = {},
  v1 = false,
) {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const res = await fetch(`${entra()}/${tenant}/oauth2/${v1 ? '' : 'v2.0/'}token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(init.headers as Record<string, string>),
    },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** FACTS.md §2: the error shape, with the AADSTS code in description, error_codes and error_uri. */
function expectAadsts(
  r: { status: number; body: Record<string, unknown> },
  status: number,
  error: string,
  code: number,
): void {
  expect({ status: r.status, error: r.body.error, codes: r.body.error_codes }).toEqual({
    status,
    error,
    codes: [code],
  });
  expect(r.body.error_description).toMatch(
    new RegExp(
      `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
      's',
    ),
  );
  expect(r.body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(r.body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.body.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`);
}

async function jwks(tenant: string) {
  const res = await fetch(`${entra()}/${tenant}/discovery/v2.0/keys`);
  return createLocalJWKSet((await res.json()) as JSONWebKeySet);
}

describe('Entra simulator: discovery (FACTS.md §4.3)', () => {
  it('serves v2 OpenID configuration per tenant with its own endpoints and the v2 issuer', async () => {
    const contoso = inject('sandbox').customers.contoso;
    const res = await fetch(`${entra()}/contoso.example/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: `https://login.microsoftonline.com/${contoso}/v2.0`,
      token_endpoint: `${entra()}/${contoso}/oauth2/v2.0/token`,
      authorization_endpoint: `${entra()}/${contoso}/oauth2/v2.0/authorize`,
      jwks_uri: `${entra()}/${contoso}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    });
  });

  it('templates the issuer for common and organizations, and serves v1 with the sts.windows.net issuer', async () => {
    const common = (await (
      await fetch(`${entra()}/common/v2.0/.well-known/openid-configuration`)
    ).json()) as {
      issuer: string;
    };
    expect(common.issuer).toBe(`https://login.microsoftonline.com/{tenantid}/v2.0`);
    const org = (await (await fetch(`${entra()}/organizations/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(org.issuer).toBe('https://sts.windows.net/{tenantid}/');
    const contoso = inject('sandbox').customers.contoso;
    const v1 = (await (await fetch(`${entra()}/${contoso}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      token_endpoint: string;
    };
    expect(v1).toMatchObject({
      issuer: `https://sts.windows.net/${contoso}/`,
      token_endpoint: `${entra()}/${contoso}/oauth2/token`,
    });
  });

  it('refuses an unknown tenant with invalid_tenant and AADSTS90002', async () => {
    const res = await fetch(`${entra()}/nosuchtenant.example/v2.0/.well-known/openid-configuration`);
    expectAadsts(
      { status: res.status, body: (await res.json()) as Record<string, unknown> },
      400,
      'invalid_tenant',
      90002,
    );
  });

  it('publishes the signing key as a JWKS whose v2 keys name their issuer', async () => {
    const contoso = inject('sandbox').customers.contoso;
    const body = (await (await fetch(`${entra()}/${contoso}/discovery/v2.0/keys`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(body.keys[0]).toMatchObject({
      kty: 'RSA',
      use: 'sig',
      issuer: `https://login.microsoftonline.com/${contoso}/v2.0`,
    });
    expect(body.keys[0]).toHaveProperty('kid');
    const v1 = (await (await fetch(`${entra()}/common/discovery/keys`)).json()) as { keys: unknown[] };
    expect(v1.keys).toHaveLength(1);
  });

  it('answers instance discovery as MSAL asks for it, and refuses a foreign host with AADSTS50049', async () => {
    const host = new URL(entra()).host;
    const q = new URLSearchParams({
      'api-version': '1.1',
      authorization_endpoint: `${entra()}/contoso.example/oauth2/v2.0/authorize`,
    });
    const res = await fetch(`${entra()}/common/discovery/instance?${q}`);
    expect(await res.json()).toEqual({
      tenant_discovery_endpoint: `${entra()}/contoso.example/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
    const bad = await fetch(
      `${entra()}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://evil.example/x/oauth2/v2.0/authorize')}`,
    );
    expectAadsts(
      { status: bad.status, body: (await bad.json()) as Record<string, unknown> },
      400,
      'invalid_instance',
      50049,
    );
  });
});

describe('Entra simulator: client credentials (FACTS.md §2, §3)', () => {
  let tenant: Tenant;
  let app: { appId: string; secret: string };
  const form = (extra: Record<string, string> = {}): Record<string, string> => ({
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: app.secret,
    scope: EXO,
    ...extra,
  });

  beforeAll(async () => {
    tenant = await newTenant('CC Customer');
    app = await newApp({ [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'], [GRAPH_APP_ID]: ['Mail.Read'] });
  });

  it('refuses a tenant without the app’s service principal: 401 invalid_client AADSTS7000229', async () => {
    const fresh = await newTenant('No consent');
    expectAadsts(await token(fresh.id, form()), 401, 'invalid_client', 7000229);
  });

  it('issues a v1 app-only token with appid, appidacr=1, the SP oid, tid and granted roles', async () => {
    const sp = await control<{ objectId: string }>('POST', `/_sim/tenants/${tenant.id}/consents`, {
      appId: app.appId,
    });
    const r = await token(tenant.id, form());
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toContain('no-store');
    expect(r.body).toEqual({
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      ext_expires_in: expect.any(Number),
      access_token: expect.any(String),
    });
    expect(r.body.expires_in).toBeGreaterThanOrEqual(3600);
    const { payload } = await jwtVerify(r.body.access_token as string, await jwks(tenant.id));
    expect(payload).toMatchObject({
      iss: `https://sts.windows.net/${tenant.id}/`,
      aud: 'https://outlook.office365.com',
      appid: app.appId,
      appidacr: '1',
      oid: sp.objectId,
      sub: sp.objectId,
      tid: tenant.id,
      roles: ['IMAP.AccessAsApp'],
      idtyp: 'app',
      ver: '1.0',
    });
  });

  it('accepts the secret by HTTP Basic (RFC 6749 §2.3.1) and the v1 endpoint with `resource`', async () => {
    const basic = Buffer.from(`${encodeURIComponent(app.appId)}:${encodeURIComponent(app.secret)}`).toString(
      'base64',
    );
    const r = await token(
      tenant.id,
      { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' },
      { headers: { authorization: `Basic ${basic}` } },
    );
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.access_token as string).roles).toEqual(['Mail.Read']);
    const v1 = await token(
      tenant.id,
      {
        grant_type: 'client_credentials',
        client_id: app.appId,
        client_secret: app.secret,
        resource: 'https://graph.microsoft.com',
      },
      {},
      true,
    );
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({
      token_type: 'Bearer',
      resource: 'https://graph.microsoft.com',
      expires_in: expect.any(String),
    });
  });

  it.each([
    ['a wrong secret', { client_secret: 'not-the-secret' }, 401, 'invalid_client', 7000215],
    ['a named scope', { scope: 'https://graph.microsoft.com/Mail.Read' }, 400, 'invalid_scope', 1002012],
    [
      'two resources',
      { scope: 'https://graph.microsoft.com/.default https://outlook.office365.com/.default' },
      400,
      'invalid_scope',
      700022,
    ],
    ['an unknown resource', { scope: 'https://nothing.example/.default' }, 400, 'invalid_resource', 500011],
    ['an unsupported grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    [
      'an unknown client',
      { client_id: '11111111-2222-3333-4444-555555555555' },
      400,
      'unauthorized_client',
      700016,
    ],
  ])('refuses %s', async (_, extra, status, error, code) => {
    expectAadsts(await token(tenant.id, form(extra)), status, error, code);
  });

  it('refuses a missing grant_type and a missing credential (900144, 7000218)', async () => {
    const { grant_type: _g, ...noGrant } = form();
    expectAadsts(await token(tenant.id, noGrant), 400, 'invalid_request', 900144);
    const { client_secret: _s, ...noSecret } = form();
    expectAadsts(await token(tenant.id, noSecret), 401, 'invalid_client', 7000218);
  });

  it('refuses a duplicated parameter with AADSTS9000411', async () => {
    const body = `${new URLSearchParams(form())}&scope=${encodeURIComponent(EXO)}`;
    expectAadsts(await token(tenant.id, body), 400, 'invalid_request', 9000411);
  });

  it('refuses /common (9001023) and an unknown tenant (90002)', async () => {
    expectAadsts(await token('common', form()), 400, 'invalid_request', 9001023);
    expectAadsts(await token('nosuch.example', form()), 400, 'invalid_request', 90002);
  });

  it('refuses an expired secret with AADSTS7000222', async () => {
    const { value } = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {
      lifetimeSeconds: -60,
    });
    expectAadsts(await token(tenant.id, form({ client_secret: value })), 401, 'invalid_client', 7000222);
  });

  it('refuses Exchange in a tenant without Exchange Online (500011)', async () => {
    const noExo = await newTenant('No EXO', false);
    await control('POST', `/_sim/tenants/${noExo.id}/consents`, { appId: app.appId });
    expectAadsts(await token(noExo.id, form()), 400, 'invalid_resource', 500011);
    expect((await token(noExo.id, form({ scope: 'https://graph.microsoft.com/.default' }))).status).toBe(200);
  });

  it('answers 700016 while a fresh consent has not replicated', async () => {
    const slow = await newTenant('Slow replication');
    await control('POST', `/_sim/tenants/${slow.id}/consents`, {
      appId: app.appId,
      replicationDelayMs: 60_000,
    });
    expectAadsts(await token(slow.id, form()), 400, 'unauthorized_client', 700016);
  });

  it('answers injected faults with temporarily_unavailable and Retry-After', async () => {
    const t = await newTenant('Faulty');
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'throttle',
      retryAfterSeconds: 9,
      pathContains: t.id,
      count: 1,
    });
    const r = await token(t.id, form());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('9');
    expect(r.body.error).toBe('temporarily_unavailable');
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: t.id,
      count: 1,
    });
    const s = await token(t.id, form());
    expect(s.status).toBe(503);
    expect(s.body.error).toBe('temporarily_unavailable');
  });
});

describe('Entra simulator: client assertion (E-CERT, FACTS.md §2)', () => {
  let tenant: Tenant;
  let app: { appId: string; secret: string };
  let privateKey: Awaited<ReturnType<typeof importPKCS8>>;
  let x5tS256: string;

  beforeAll(async () => {
    tenant = await newTenant('Cert customer');
    app = await newApp({ [EXCHANGE_APP_ID]: ['SMTP.SendAsApp'] });
    await control('POST', `/_sim/tenants/${tenant.id}/consents`, { appId: app.appId });
    const cert = await selfSignedCertificate();
    await control('POST', `/_sim/apps/${app.appId}/certificates`, { certificatePem: cert.certificatePem });
    privateKey = await importPKCS8(cert.privateKeyPem, 'PS256');
    x5tS256 = Buffer.from(cert.thumbprintSha256Hex, 'hex').toString('base64url');
  });

  const assertion = (claims: Record<string, unknown> = {}, header: Record<string, string> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      aud: `${entra()}/${tenant.id}/oauth2/v2.0/token`,
      iss: app.appId,
      sub: app.appId,
      jti: crypto.randomUUID(),
      nbf: now,
      exp: now + 600,
      ...claims,
    })
      .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': x5tS256, ...header })
      .sign(privateKey);
  };
  const form = async (a: string) => ({
    grant_type: 'client_credentials',
    client_id: app.appId,
    scope: EXO,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: a,
  });

  it('issues a token with appidacr=2 for a valid PS256 assertion', async () => {
    const r = await token(tenant.id, await form(await assertion()));
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.access_token as string)).toMatchObject({
      appidacr: '2',
      roles: ['SMTP.SendAsApp'],
    });
  });

  it.each([
    [
      'a wrong audience (700023)',
      { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' },
      {},
      700023,
    ],
    ['an iss/sub other than client_id (700021)', { iss: 'someone-else', sub: 'someone-else' }, {}, 700021],
    [
      'an expired assertion (700024)',
      { exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 },
      {},
      700024,
    ],
    ['an unregistered key (700027)', {}, { 'x5t#S256': 'AAAA' }, 700027],
  ])('refuses %s with 401 invalid_client', async (_, claims, header, code) => {
    expectAadsts(
      await token(tenant.id, await form(await assertion(claims, header))),
      401,
      'invalid_client',
      code,
    );
  });
});

describe('Entra simulator: admin consent (FACTS.md §1)', () => {
  let tenant: Tenant;
  let exchangeOnly: { appId: string; secret: string };
  let withGraph: { appId: string; secret: string };
  const redirectUri = 'https://isv.example/consent/callback';

  beforeAll(async () => {
    tenant = await newTenant('Consenting customer');
    exchangeOnly = await newApp({ [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'] });
    withGraph = await newApp({
      [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'],
      [GRAPH_APP_ID]: ['Organization.Read.All'],
    });
  });

  const consentUrl = (appId: string, v1 = false, extra: Record<string, string> = {}) =>
    `${entra()}/${tenant.id}/${v1 ? '' : 'v2.0/'}adminconsent?${new URLSearchParams({
      client_id: appId,
      redirect_uri: redirectUri,
      ...(v1 ? {} : { scope: 'https://graph.microsoft.com/.default' }),
      state: 'st-123',
      ...extra,
    })}`;

  async function decide(appId: string, user: string, decision: 'approve' | 'deny', v1 = false): Promise<URL> {
    const page = await fetch(consentUrl(appId, v1));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(user);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        m[2]!
          .replace(/&amp;/g, '&')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>'),
      ]),
    );
    const res = await fetch(`${entra()}${action}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, user, decision }).toString(),
    });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('shows an HTML AADSTS50011 page for an unregistered redirect_uri (FACTS.md §1.4)', async () => {
    const res = await fetch(
      consentUrl(exchangeOnly.appId, false, { redirect_uri: 'https://attacker.example/cb' }),
      {
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('AADSTS50011');
  });

  it('v2 Deny redirects with consent_required, AADSTS65004, admin_consent=True and the state (E-ADMIN)', async () => {
    const loc = await decide(exchangeOnly.appId, `ga@${tenant.id}.example`, 'deny');
    expect(`${loc.origin}${loc.pathname}`).toBe(redirectUri);
    expect(loc.searchParams.get('admin_consent')).toBe('True');
    expect(loc.searchParams.get('error')).toBe('consent_required');
    expect(loc.searchParams.get('error_description')).toMatch(/^AADSTS65004: .*\r\nTrace ID: /s);
    expect(loc.searchParams.get('state')).toBe('st-123');
  });

  it('v1 Deny redirects with permission_denied (E-CC)', async () => {
    const loc = await decide(exchangeOnly.appId, `ga@${tenant.id}.example`, 'deny', true);
    expect(loc.searchParams.get('error')).toBe('permission_denied');
    expect(loc.searchParams.get('error_description')).toBe('The admin canceled the request');
  });

  it('refuses an approval by a user without an admin role (AADSTS90094)', async () => {
    const loc = await decide(exchangeOnly.appId, `user@${tenant.id}.example`, 'approve');
    expect(loc.searchParams.get('error')).toBe('access_denied');
    expect(loc.searchParams.get('error_description')).toMatch(/^AADSTS90094: /);
    expect(loc.searchParams.get('state')).toBe('st-123');
  });

  it('refuses a Cloud Application Administrator for Graph app roles, allows it for Exchange only (E-GRANT)', async () => {
    const graph = await decide(withGraph.appId, `caa@${tenant.id}.example`, 'approve');
    expect(graph.searchParams.get('error')).toBe('access_denied');
    const exo = await decide(exchangeOnly.appId, `caa@${tenant.id}.example`, 'approve');
    expect(exo.searchParams.get('admin_consent')).toBe('True');
  });

  it('Approve by a Global Administrator redirects with admin_consent, tenant, scope and state, and tokens follow', async () => {
    const loc = await decide(withGraph.appId, `ga@${tenant.id}.example`, 'approve');
    expect([...loc.searchParams.keys()]).toEqual(['admin_consent', 'tenant', 'scope', 'state']);
    expect(loc.searchParams.get('admin_consent')).toBe('True');
    expect(loc.searchParams.get('tenant')).toBe(tenant.id);
    expect(loc.searchParams.get('scope')).toBe(
      'https://outlook.office365.com/IMAP.AccessAsApp https://graph.microsoft.com/Organization.Read.All',
    );
    expect(loc.searchParams.get('state')).toBe('st-123');
    const r = await token(tenant.id, {
      grant_type: 'client_credentials',
      client_id: withGraph.appId,
      client_secret: withGraph.secret,
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(decodeJwt(r.body.access_token as string).roles).toEqual(['Organization.Read.All']);
  });

  it('keeps a fresh consent unprovable (700016) for the tenant’s replication delay', async () => {
    const slow = await newTenant('Replicating');
    await control('PUT', `/_sim/tenants/${slow.id}/consent-replication-delay`, { delayMs: 60_000 });
    const page = await fetch(
      `${entra()}/${slow.id}/adminconsent?${new URLSearchParams({ client_id: exchangeOnly.appId, redirect_uri: redirectUri })}`,
    );
    expect(page.status).toBe(200);
    const res = await fetch(`${entra()}/${slow.id}/adminconsent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: exchangeOnly.appId,
        redirect_uri: redirectUri,
        user: `ga@${slow.id}.example`,
        decision: 'approve',
      }).toString(),
    });
    const loc = new URL(res.headers.get('location')!);
    expect([...loc.searchParams.entries()]).toEqual([
      ['tenant', slow.id],
      ['admin_consent', 'True'],
    ]);
    const r = await token(slow.id, {
      grant_type: 'client_credentials',
      client_id: exchangeOnly.appId,
      client_secret: exchangeOnly.secret,
      scope: EXO,
    });
    expectAadsts(r, 400, 'unauthorized_client', 700016);
  });
});

describe('Entra simulator: staff tokens for the support API (FACTS.md §4.2)', () => {
  it('mints v1 and v2 user tokens with the user’s app roles, verifiable with the JWKS', async () => {
    const { vendorTenantId, homeApp, staff } = inject('sandbox');
    const v1 = await control<{ access_token: string }>('POST', '/_sim/staff-token', {
      user: staff.admin,
      version: 1,
    });
    const { payload: p1 } = await jwtVerify(v1.access_token, await jwks(vendorTenantId));
    expect(p1).toMatchObject({
      iss: `https://sts.windows.net/${vendorTenantId}/`,
      aud: `api://${homeApp.clientId}`,
      tid: vendorTenantId,
      upn: staff.admin,
      roles: ['Broker.Admin', 'Broker.Read'],
      ver: '1.0',
    });
    const v2 = await control<{ access_token: string }>('POST', '/_sim/staff-token', {
      user: staff.reader,
      version: 2,
    });
    const { payload: p2 } = await jwtVerify(v2.access_token, await jwks(vendorTenantId));
    expect(p2).toMatchObject({
      iss: `https://login.microsoftonline.com/${vendorTenantId}/v2.0`,
      aud: homeApp.clientId,
      preferred_username: staff.reader,
      roles: ['Broker.Read'],
      ver: '2.0',
    });
  });

  it('mints expired, other-tenant and other-audience tokens on request', async () => {
    const { staff, customers } = inject('sandbox');
    const expired = await control<{ access_token: string }>('POST', '/_sim/staff-token', {
      user: staff.admin,
      expiresInSeconds: -60,
    });
    expect(decodeJwt(expired.access_token).exp!).toBeLessThan(Date.now() / 1000);
    const other = await control<{ access_token: string }>('POST', '/_sim/staff-token', {
      tenant: customers.contoso,
      roles: ['Broker.Admin'],
    });
    expect(decodeJwt(other.access_token)).toMatchObject({ tid: customers.contoso, roles: ['Broker.Admin'] });
    const aud = await control<{ access_token: string }>('POST', '/_sim/staff-token', {
      user: staff.admin,
      audience: 'api://someone-else',
    });
    expect(decodeJwt(aud.access_token).aud).toBe('api://someone-else');
  });
});
