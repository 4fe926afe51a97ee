/**
 * The token endpoint on the wire (SPEC.md "Appliances"; RFC 6749 §4.4, §5; RFC 7523): appliances get the
 * Microsoft token of their own bound tenant, and every malformed or foreign request gets the right error.
 * @module
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, type CryptoKey } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const EXO = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
const PUBLIC = 'http://localhost:7071';
let broker: TestBroker;
let staff: string;
let tenant: ConsentedTenant;
let secretClient: { clientId: string; clientSecret: string };

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  tenant = await consentedTenant(broker.url, staff, 'Vending Corp', ['exchange-imap', 'exchange-smtp']);
  secretClient = await register({
    customerRef: 'PBX-1',
    tenantId: tenant.tenantId,
    profiles: ['exchange-imap'],
    auth: { method: 'client_secret' },
  });
});
afterAll(async () => {
  await broker?.close();
});

async function register(body: unknown): Promise<{ clientId: string; clientSecret: string }> {
  const res = await fetch(`${broker.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()) as { clientId: string; clientSecret: string };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function token(
  form: Record<string, string>,
  init: { authorization?: string; path?: string; contentType?: string; raw?: string } = {},
) {
  const res = await fetch(`${broker.url}${init.path ?? '/oauth2/token'}`, {
    method: 'POST',
    headers: {
      'content-type': init.contentType ?? 'application/x-www-form-urlencoded',
      ...(init.authorization ? { authorization: init.authorization } : {}),
    },
    body: init.raw ?? new URLSearchParams(form).toString(),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, string | number>,
  };
}

const cc = { grant_type: 'client_credentials', scope: EXO };

/** A token request from another loopback address (Linux routes all of 127.0.0.0/8 to lo). */
function tokenFrom(
  localAddress: string,
  form: Record<string, string>,
  authorization: string,
): Promise<{ status: number; body: string }> {
  const url = new URL('/oauth2/token', broker.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(new URLSearchParams(form).toString());
  });
}

describe('token endpoint: success', () => {
  it("vends the bound tenant's Exchange token with client_secret_basic (RFC 6749 §5.1, no-store)", async () => {
    const res = await token(cc, { authorization: basic(secretClient.clientId, secretClient.clientSecret) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      token_type: 'Bearer',
      access_token: expect.any(String),
      expires_in: expect.any(Number),
      scope: EXO,
    });
    expect(res.body.expires_in).toBeGreaterThan(300);
    const claims = decodeJwt(String(res.body.access_token));
    expect(claims).toMatchObject({
      tid: tenant.tenantId,
      aud: 'https://outlook.office365.com',
      roles: expect.arrayContaining(['IMAP.AccessAsApp']),
    });
  });

  it('accepts client_secret_post and the Microsoft-shaped path with the tenant id, a verified domain or organizations', async () => {
    const post = { ...cc, client_id: secretClient.clientId, client_secret: secretClient.clientSecret };
    expect((await token(post)).status).toBe(200);
    for (const t of [tenant.tenantId, tenant.domain, 'organizations']) {
      expect((await token(post, { path: `/${t}/oauth2/v2.0/token` })).status).toBe(200);
    }
  });

  it("works from curl the way a PBX vendor's test script asks (form POST to /{tenant}/oauth2/v2.0/token)", async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-s',
      '-X',
      'POST',
      `${broker.url}/${tenant.tenantId}/oauth2/v2.0/token`,
      '-d',
      `client_id=${secretClient.clientId}`,
      '-d',
      'scope=https%3A%2F%2Foutlook.office365.com%2F.default',
      '-d',
      `client_secret=${encodeURIComponent(secretClient.clientSecret)}`,
      '-d',
      'grant_type=client_credentials',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ token_type: 'Bearer', scope: EXO });
  });

  it('publishes RFC 8414 metadata', async () => {
    const res = await fetch(`${broker.url}/.well-known/oauth-authorization-server`);
    expect(await res.json()).toMatchObject({
      issuer: PUBLIC,
      token_endpoint: `${PUBLIC}/oauth2/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      grant_types_supported: [
        'client_credentials',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      device_authorization_endpoint: `${PUBLIC}/organizations/oauth2/v2.0/devicecode`,
    });
  });
});

describe('token endpoint: private_key_jwt (RFC 7523)', () => {
  let key: CryptoKey;
  let client: string;
  // A client of its own per test, so that one test's refusals do not trip another's throttle.
  beforeEach(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    client = (
      await register({
        customerRef: 'PBX-JWT',
        tenantId: tenant.tenantId,
        profiles: ['exchange-imap'],
        auth: { method: 'private_key_jwt', jwks: { keys: [jwk] } },
      })
    ).clientId;
  });
  const assertion = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: client,
      sub: client,
      aud: `${PUBLIC}/oauth2/token`,
      jti: randomUUID(),
      iat: now,
      exp: now + 120,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header })
      .sign(key);
  };
  const withAssertion = async (a: string) =>
    token({
      ...cc,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: a,
    });

  it('vends for a valid assertion, and refuses its replay (jti single-use)', async () => {
    const a = await assertion();
    expect((await withAssertion(a)).status).toBe(200);
    expect(await withAssertion(a)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('accepts the issuer as audience too', async () => {
    expect((await withAssertion(await assertion({ aud: PUBLIC }))).status).toBe(200);
  });

  it.each([
    ['a wrong aud', { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }],
    ['an expired assertion', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['an exp more than 5 minutes ahead', { exp: Math.floor(Date.now() / 1000) + 900 }],
    ['a future nbf', { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ['a future iat', { iat: Math.floor(Date.now() / 1000) + 600 }],
    ['sub different from iss', { sub: randomUUID() }],
    ['no jti', { jti: undefined }],
  ])('refuses %s with invalid_client', async (_, claims) => {
    expect(await withAssertion(await assertion(claims))).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('refuses an unknown kid, alg none and a forged signature', async () => {
    expect((await withAssertion(await assertion({}, { kid: 'other' }))).status).toBe(401);
    const [, payload] = (await assertion()).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    expect((await withAssertion(none)).status).toBe(401);
    const forged = await assertion();
    expect((await withAssertion(`${forged.slice(0, -4)}AAAA`)).status).toBe(401);
  });
});

describe('token endpoint: refusals (RFC 6749 §5.2)', () => {
  const auth = () => basic(secretClient.clientId, secretClient.clientSecret);

  it.each([
    ['no grant_type', { scope: EXO }, 400, 'invalid_request'],
    ['another grant type', { grant_type: 'password', scope: EXO }, 400, 'unsupported_grant_type'],
    ['no scope', { grant_type: 'client_credentials' }, 400, 'invalid_scope'],
    ['two scopes', { grant_type: 'client_credentials', scope: `${EXO} ${GRAPH}` }, 400, 'invalid_scope'],
    [
      'a named scope',
      { grant_type: 'client_credentials', scope: 'https://outlook.office365.com/IMAP.AccessAsApp' },
      400,
      'invalid_scope',
    ],
    [
      'a resource outside the profiles',
      { grant_type: 'client_credentials', scope: GRAPH },
      400,
      'invalid_scope',
    ],
    [
      'an unknown resource',
      { grant_type: 'client_credentials', scope: 'https://example.com/.default' },
      400,
      'invalid_scope',
    ],
  ])('answers %s with %s %s', async (_, form, status, error) => {
    expect(await token(form, { authorization: auth() })).toMatchObject({ status, body: { error } });
  });

  it('refuses a wrong secret, an unknown client and malformed Basic with 401 and WWW-Authenticate', async () => {
    for (const authorization of [
      basic(secretClient.clientId, 'wrong'),
      basic(randomUUID(), 'x'),
      'Basic !!!',
      'Basic bm9jb2xvbg==',
    ]) {
      const res = await token(cc, { authorization });
      expect(res).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    expect(await token({ ...cc, client_id: secretClient.clientId, client_secret: 'wrong' })).toMatchObject({
      status: 401,
    });
    expect(
      JSON.stringify(
        (await token(cc, { authorization: basic(secretClient.clientId, 'wrong-secret-value') })).body,
      ),
    ).not.toContain('wrong-secret-value');
  });

  it('refuses secrets in both header and body, duplicated parameters, another content type and an oversized body', async () => {
    expect(
      await token(
        { ...cc, client_id: secretClient.clientId, client_secret: secretClient.clientSecret },
        { authorization: auth() },
      ),
    ).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(
      await token(
        {},
        {
          authorization: auth(),
          raw: `grant_type=client_credentials&scope=${encodeURIComponent(EXO)}&scope=${encodeURIComponent(EXO)}`,
        },
      ),
    ).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(
      await token(cc, { authorization: auth(), contentType: 'application/json', raw: JSON.stringify(cc) }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await token({ ...cc, pad: 'x'.repeat(20_000) }, { authorization: auth() })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
  });

  it('refuses another tenant in the Microsoft-shaped path (unauthorized_client)', async () => {
    const other = await control<{ id: string }>('POST', '/_sim/tenants', { displayName: 'Someone Else' });
    for (const t of [other.id, 'contoso.example', 'common']) {
      expect(await token(cc, { authorization: auth(), path: `/${t}/oauth2/v2.0/token` })).toMatchObject({
        status: 400,
        body: { error: 'unauthorized_client' },
      });
    }
  });

  it('names the cause when the appliance has no tenant yet, or its tenant never consented', async () => {
    const unbound = await register({
      customerRef: 'PBX-NEW',
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    const res = await token(cc, { authorization: basic(unbound.clientId, unbound.clientSecret) });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(res.body.error_description).toMatch(/not bound to a tenant/);
    const foreign = await register({
      customerRef: 'PBX-X',
      tenantId: randomUUID(),
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    const res2 = await token(cc, { authorization: basic(foreign.clientId, foreign.clientSecret) });
    expect(res2.body.error_description).toMatch(/No consent is recorded/);
  });

  it('refuses a revoked appliance at once on this instance', async () => {
    const c = await register({
      customerRef: 'PBX-REVOKE',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    expect((await token(cc, { authorization: basic(c.clientId, c.clientSecret) })).status).toBe(200);
    const del = await fetch(`${broker.url}/api/appliances/${c.clientId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(del.status).toBe(204);
    expect(await token(cc, { authorization: basic(c.clientId, c.clientSecret) })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('keeps the previous secret working through the rotation grace period, with the new one', async () => {
    const c = await register({
      customerRef: 'PBX-ROTATE',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    const res = await fetch(`${broker.url}/api/appliances/${c.clientId}/secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}` },
    });
    const rotated = (await res.json()) as { clientSecret: string; previousSecretValidUntil: string };
    expect(Date.parse(rotated.previousSecretValidUntil) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect((await token(cc, { authorization: basic(c.clientId, c.clientSecret) })).status).toBe(200);
    expect((await token(cc, { authorization: basic(c.clientId, rotated.clientSecret) })).status).toBe(200);
  });
});

describe('token endpoint: abuse and usage', () => {
  it('answers 429 with Retry-After after repeated failed authentication of one client id, before checking the secret', async () => {
    const c = await register({
      customerRef: 'PBX-BRUTE',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await token(cc, { authorization: basic(c.clientId, `guess-${i}`) })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const blocked = await token(cc, { authorization: basic(c.clientId, c.clientSecret) });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(statuses[10]).toBe(429);
  });

  it('serves the right secret while the client id is attacked from another address: failures count per (client id, source)', async () => {
    const c = await register({
      customerRef: 'PBX-ATTACKED',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    // The attacker connects from 127.0.0.2 (the local host appends the socket's address to X-Forwarded-For).
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await tokenFrom('127.0.0.2', cc, basic(c.clientId, `guess-${i}`))).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    const pbx = await token(cc, { authorization: basic(c.clientId, c.clientSecret) });
    expect(pbx).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    // At the attacker's own address the client id stays blocked, the right secret included (no oracle).
    expect((await tokenFrom('127.0.0.2', cc, basic(c.clientId, c.clientSecret))).status).toBe(429);
  });

  it('counts tokens per appliance without a write per request, and shows them after a flush', async () => {
    const c = await register({
      customerRef: 'PBX-USAGE',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    for (let i = 0; i < 5; i++)
      expect((await token(cc, { authorization: basic(c.clientId, c.clientSecret) })).status).toBe(200);
    const view = async () =>
      (
        await fetch(`${broker.url}/api/appliances/${c.clientId}`, {
          headers: { authorization: `Bearer ${staff}` },
        })
      ).json();
    expect(await view()).toMatchObject({ tokenCount: 0, lastSeenAt: null });
    await broker.flushUsage();
    expect(await view()).toMatchObject({ tokenCount: 5, lastSeenAt: expect.any(String) });
    const t = (await (
      await fetch(`${broker.url}/api/tenants/${tenant.tenantId}`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json()) as {
      lastTokenAt: string;
      appliances: { clientId: string; tokenCount: number }[];
    };
    expect(t.lastTokenAt).toEqual(expect.any(String));
    expect(t.appliances).toContainEqual(expect.objectContaining({ clientId: c.clientId, tokenCount: 5 }));
    const audit = (await (
      await fetch(`${broker.url}/api/audit?tenantId=${tenant.tenantId}&top=1000`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json()) as {
      items: { action: string; details: { clientId?: string; count?: number } }[];
    };
    expect(audit.items).toContainEqual(
      expect.objectContaining({
        action: 'tokens.issued',
        details: expect.objectContaining({ clientId: c.clientId, count: 5 }),
      }),
    );
  });
});

describe('token endpoint: Microsoft unavailable', () => {
  it('serves a valid cached token while Entra ID refuses connections, and answers 503 + Retry-After within 5 s without one', async () => {
    const c = await register({
      customerRef: 'PBX-OUTAGE',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap', 'exchange-smtp'],
      auth: { method: 'client_secret' },
    });
    const auth = basic(c.clientId, c.clientSecret);
    expect((await token(cc, { authorization: auth })).status).toBe(200); // warm for Exchange
    const other = await consentedTenant(broker.url, staff, 'Cold Outage Ltd', ['exchange-imap']);
    const cold = await register({
      customerRef: 'PBX-COLD',
      tenantId: other.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    // Entra hangs on the cold tenant longer than the 5 s deadline.
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'slow',
      delayMs: 8_000,
      pathContains: `/${other.tenantId}/oauth2`,
      count: 2,
    });
    const started = Date.now();
    const res = await token(cc, { authorization: basic(cold.clientId, cold.clientSecret) });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(res).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // The warm tenant is still served from memory.
    expect((await token(cc, { authorization: auth })).status).toBe(200);
  });
});
