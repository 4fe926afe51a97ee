/**
 * Firmware written against `https://login.microsoftonline.com/{tenant}/…` works by changing only the host:
 * the OpenID configuration of the appliance's tenant (v2 and v1) describes the broker's own endpoints, the
 * v1 token path takes `resource=` and answers as Entra's v1 endpoint does, every `.default` spelling the
 * profiles declare for Exchange Online is accepted and passed on as asked, and MSAL Node itself, configured
 * as firmware would configure it (a confidential client whose authority is the broker's https host, in
 * `knownAuthorities`), gets an IMAP token through the broker. The broker is reached through a TLS front, as
 * Azure's front end stands before the Functions host, and its public URL is that https origin. MSAL Node as a
 * public client (OpenScape's device-code flow) gets a user's SMTP token the same way, and holds only the
 * broker's handle as its refresh token.
 * @module
 */
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startHttpsFront, type HttpsFront } from '../helpers/https-front.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
let front: HttpsFront;
let broker: TestBroker;
let tenant: ConsentedTenant;
let pbx: { clientId: string; clientSecret: string };
let staff: string;

beforeAll(async () => {
  front = await startHttpsFront();
  const home = inject('sandbox').homeApp.clientId;
  for (const path of ['consent/callback', 'consent/signin', 'mailbox-grants/callback'])
    await control('POST', `/_sim/apps/${home}/redirect-uris`, { uri: `${front.url}/${path}` });
  broker = await startTestBroker({ BROKER_PUBLIC_URL: front.url });
  front.target = broker.url;
  staff = await broker.staffToken();
  tenant = await consentedTenant(front.url, staff, 'Firmware Corp', ['exchange-imap', 'exchange-smtp']);
  const registered = await register('PBX-FW', ['exchange-imap', 'exchange-smtp'], {
    method: 'client_secret',
  });
  pbx = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
});

/** Registers an appliance for the tenant through the support API. */
async function register(customerRef: string, profiles: string[], auth: unknown) {
  const res = await fetch(`${front.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef, tenantId: tenant.tenantId, profiles, auth }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()) as { clientId: string; clientSecret?: string };
}
afterAll(async () => {
  await broker?.close();
  await front?.close();
});

const basic = () => `Basic ${Buffer.from(`${pbx.clientId}:${pbx.clientSecret}`).toString('base64')}`;

async function post(path: string, form: Record<string, string>) {
  const res = await fetch(`${front.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string) {
  const res = await fetch(`${front.url}${path}`);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('MSAL Node as firmware, with only the host changed', () => {
  it('gets an IMAP token for the appliance tenant through the broker, asking Microsoft nothing itself', async () => {
    const host = new URL(front.url).host;
    for (const authorityTenant of [tenant.tenantId, tenant.domain]) {
      front.seen.length = 0;
      const msal = new ConfidentialClientApplication({
        auth: {
          clientId: pbx.clientId,
          clientSecret: pbx.clientSecret,
          authority: `${front.url}/${authorityTenant}`,
          knownAuthorities: [host],
        },
      });
      const result = await msal.acquireTokenByClientCredential({
        scopes: ['https://outlook.office365.com/.default'],
      });
      const claims = decodeJwt(result!.accessToken);
      expect(claims).toMatchObject({ aud: 'https://outlook.office365.com', tid: tenant.tenantId });
      expect(claims.roles).toEqual(expect.arrayContaining(['IMAP.AccessAsApp', 'SMTP.SendAsApp']));
      expect(result!.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 5 * 60_000);
      // Metadata first, then the token, both at the broker (MSAL lower-cases the authority).
      expect(front.seen.map((s) => s.replace(/\?.*$/, ''))).toEqual([
        `GET /${authorityTenant.toLowerCase()}/v2.0/.well-known/openid-configuration`,
        `POST /${authorityTenant.toLowerCase()}/oauth2/v2.0/token`,
      ]);
      console.log(
        `MSAL via ${front.url}/${authorityTenant}: aud ${String(claims.aud)}, roles ${JSON.stringify(claims.roles)}, expires ${result!.expiresOn!.toISOString()}`,
      );
    }
  });

  it('signs in with a key (private_key_jwt), its assertion addressed to the token endpoint MSAL read', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS256');
    const { clientId } = await register('PBX-FW-KEY', ['exchange-imap'], {
      method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'fw-1', alg: 'PS256' }] },
    });
    const sign = (aud: string) =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'PS256', kid: 'fw-1' })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('4m')
        .sign(privateKey);
    const audiences: string[] = [];
    // MSAL's own certificate credential dates its assertion 10 minutes ahead (msal-node ClientAssertion:
    // `issuedAt + 600`), which SPEC.md's 5 minutes refuses; firmware signing its own assertion as MSAL asks
    // (the callback gets the token endpoint from the tenant's metadata) works by changing only the host.
    const assertion = async ({ tokenEndpoint }: { tokenEndpoint?: string }) => {
      audiences.push(tokenEndpoint!);
      return sign(tokenEndpoint!);
    };
    const msal = new ConfidentialClientApplication({
      auth: {
        clientId,
        clientAssertion: assertion,
        authority: `${front.url}/${tenant.domain}`,
        knownAuthorities: [new URL(front.url).host],
      },
    });
    const result = await msal.acquireTokenByClientCredential({
      scopes: ['https://outlook.office365.com/.default'],
    });
    expect(decodeJwt(result!.accessToken)).toMatchObject({ tid: tenant.tenantId });
    expect(audiences).toEqual([`${front.url}/${tenant.domain}/oauth2/v2.0/token`]);
    // Only the broker's own token endpoints are audiences: not another origin's, not another path.
    for (const aud of [
      `https://evil.example/${tenant.tenantId}/oauth2/v2.0/token`,
      `${front.url}/a/b/oauth2/v2.0/token`,
      `${front.url}/${tenant.tenantId}/oauth2/v2.0/authorize`,
    ]) {
      const signed = await sign(aud);
      const refused = await fetch(`${front.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'https://outlook.office365.com/.default',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: signed,
        }),
      });
      expect(refused.status, aud).toBe(401);
    }
  });

  it('is refused as Entra refuses it when its secret is wrong', async () => {
    const msal = new ConfidentialClientApplication({
      auth: {
        clientId: pbx.clientId,
        clientSecret: 'cbs_wrong',
        authority: `${front.url}/${tenant.tenantId}`,
        knownAuthorities: [new URL(front.url).host],
      },
    });
    await expect(
      msal.acquireTokenByClientCredential({ scopes: ['https://outlook.office365.com/.default'] }),
    ).rejects.toMatchObject({ errorCode: 'invalid_client' });
  });
});

describe('the OpenID configuration of a tenant', () => {
  it('describes the broker’s own endpoints for the tenant, v2 and v1, with the issuer on the broker’s https origin', async () => {
    const entra = inject('entraUrl');
    const v2 = await get(`/${tenant.domain}/v2.0/.well-known/openid-configuration`);
    expect(v2.status).toBe(200);
    expect(v2.headers.get('cache-control')).toBe('private, max-age=3600');
    expect(v2.body).toMatchObject({
      issuer: `${front.url}/${tenant.tenantId}/v2.0`,
      token_endpoint: `${front.url}/${tenant.tenantId}/oauth2/v2.0/token`,
      authorization_endpoint: `${front.url}/${tenant.tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: `${entra}/${tenant.tenantId}/discovery/v2.0/keys`,
      grant_types_supported: ['client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    });
    expect(v2.body.scopes_supported).toEqual(
      expect.arrayContaining([
        'https://outlook.office365.com/.default',
        'https://outlook.office.com/.default',
        `${EXCHANGE_APP_ID}/.default`,
      ]),
    );
    const v1 = await get(`/${tenant.tenantId}/.well-known/openid-configuration`);
    expect(v1.body).toMatchObject({
      issuer: `${front.url}/${tenant.tenantId}/`,
      token_endpoint: `${front.url}/${tenant.tenantId}/oauth2/token`,
      jwks_uri: `${entra}/${tenant.tenantId}/discovery/keys`,
    });
    const organizations = await get('/organizations/v2.0/.well-known/openid-configuration');
    expect(organizations.body).toMatchObject({
      issuer: `${front.url}/{tenantid}/v2.0`,
      token_endpoint: `${front.url}/organizations/oauth2/v2.0/token`,
    });
  });

  it.each([
    ['a tenant id the broker does not serve', '11111111-2222-3333-4444-555555555555'],
    ['a domain no customer has', 'nobody.example'],
    ['a name that is neither', 'not a tenant'],
  ])(
    'answers %s 400 invalid_tenant (AADSTS90002), as Entra answers a tenant it does not know',
    async (_, name) => {
      const res = await get(`/${encodeURIComponent(name)}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
      expect(String(res.body.error_description)).toMatch(/^AADSTS90002: /);
    },
  );

  it('names an authorization endpoint that says there is no sign-in here', async () => {
    const res = await get(`/${tenant.tenantId}/oauth2/v2.0/authorize?response_type=code`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_response_type');
  });
});

describe('the v1 token path', () => {
  it.each([
    ['https://outlook.office365.com', 'https://outlook.office365.com'],
    ['https://outlook.office365.com/', 'https://outlook.office365.com'],
    [EXCHANGE_APP_ID, EXCHANGE_APP_ID],
  ])(
    'takes resource=%s and answers as Entra’s v1 endpoint: numbers as strings, the resource',
    async (resource, aud) => {
      const res = await post(`/${tenant.tenantId}/oauth2/token`, {
        grant_type: 'client_credentials',
        resource,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        resource: aud,
        expires_in: expect.stringMatching(/^\d+$/),
        ext_expires_in: expect.stringMatching(/^\d+$/),
        expires_on: expect.stringMatching(/^\d+$/),
      });
      expect(Number(res.body.expires_on)).toBeCloseTo(Date.now() / 1000 + Number(res.body.expires_in), -1);
      expect(decodeJwt(String(res.body.access_token)).aud).toBe(aud);
    },
  );

  it('refuses a v1 request without resource, and a v2 request with one, as Entra does', async () => {
    const v1 = await post(`/${tenant.tenantId}/oauth2/token`, {
      grant_type: 'client_credentials',
      scope: 'https://outlook.office365.com/.default',
    });
    expect(v1.status).toBe(400);
    expect(v1.body.error).toBe('invalid_request');
    expect(String(v1.body.error_description)).toContain("'resource'");
    const v2 = await post(`/${tenant.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      resource: 'https://outlook.office365.com',
    });
    expect(v2.status).toBe(400);
    expect(String(v2.body.error_description)).toContain("'resource' request parameter is not supported");
  });
});

describe('scope spellings of Exchange Online', () => {
  it.each([
    ['https://outlook.office365.com/.default', 'https://outlook.office365.com'],
    ['https://outlook.office.com/.default', 'https://outlook.office.com'],
    [`${EXCHANGE_APP_ID}/.default`, EXCHANGE_APP_ID],
    ['HTTPS://Outlook.Office.com/.default', 'https://outlook.office.com'],
  ])('accepts %s, passes it on as declared and answers with it', async (scope, aud) => {
    const res = await post('/oauth2/token', { grant_type: 'client_credentials', scope });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe(`${aud}/.default`);
    const claims = decodeJwt(String(res.body.access_token));
    expect(claims.aud).toBe(aud);
    expect(claims.roles).toEqual(expect.arrayContaining(['IMAP.AccessAsApp']));
  });

  it('refuses a spelling the profiles do not declare', async () => {
    const res = await post('/oauth2/token', {
      grant_type: 'client_credentials',
      scope: 'https://ps.outlook.com/.default',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });
});

describe('MSAL Node as public-client firmware (device-code flow), with only the host changed', () => {
  it('shows the code, polls while the user signs in, and gets the user’s SMTP token; the broker keeps the rest', async () => {
    const { clientId } = await register('OpenScape-FW', ['user-smtp'], { method: 'none' });
    const user = `forwarding@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: user });
    const msal = new PublicClientApplication({
      auth: {
        clientId,
        authority: `${front.url}/${tenant.tenantId}`,
        knownAuthorities: [new URL(front.url).host],
      },
    });
    const from = front.seen.length;
    const result = await msal.acquireTokenByDeviceCode({
      scopes: ['https://outlook.office.com/SMTP.Send'],
      deviceCodeCallback: (code) => {
        expect(code.verificationUri).toBe(`${front.url}/device`);
        expect(code.message).toContain(code.userCode);
        // The user, on another device, while MSAL polls.
        void (async () => {
          const browser = new ConsentBrowser(front.url, front.url);
          const page = await browser.open(`${front.url}/device/go?user_code=${code.userCode}`);
          expect((await browser.submit(page, { login: user })).status).toBe(200);
        })();
      },
    });
    const seen = front.seen.slice(from).map((r) => r.split('?')[0]);
    expect(decodeJwt(result!.accessToken)).toMatchObject({
      aud: 'https://outlook.office365.com',
      scp: 'SMTP.Send',
      upn: user,
    });
    expect(seen).toContain(`POST /${tenant.tenantId}/oauth2/v2.0/devicecode`);
    expect(
      seen.filter((r) => r === `POST /${tenant.tenantId}/oauth2/v2.0/token`).length,
    ).toBeGreaterThanOrEqual(2);
    // MSAL's cache holds the broker's handle, not Microsoft's refresh token.
    const cache = JSON.parse(msal.getTokenCache().serialize()) as {
      RefreshToken: Record<string, { secret: string }>;
    };
    expect(Object.values(cache.RefreshToken).map((t) => t.secret.slice(0, 4))).toEqual(['mbh_']);
  }, 30_000);
});
