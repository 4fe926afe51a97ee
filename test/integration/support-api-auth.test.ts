/**
 * The support API's authentication on the wire (SPEC.md "Vendor support"), with tokens issued by the
 * simulated Entra ID and checked by the broker against the simulator's published keys.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.close();
});

const get = (path: string, token?: string) =>
  fetch(`${broker.url}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

async function expectProblem(res: Response, status: number, wwwAuthenticate?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  const body = (await res.json()) as { status: number; title: string; detail: string; type: string };
  expect(body).toMatchObject({ type: 'about:blank', status });
  if (wwwAuthenticate) expect(res.headers.get('www-authenticate')).toMatch(wwwAuthenticate);
  return body;
}

describe('support API authentication', () => {
  it('lists tenants for a v1 staff token with Broker.Admin (App ID URI audience)', async () => {
    const res = await get('/api/tenants', await broker.staffToken({ version: 1 }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Other test files share the tables: past a page of tenants the answer carries a continuationToken too.
    expect(await res.json()).toMatchObject({ items: expect.any(Array) });
  });

  it('accepts a v2 token with Broker.Read (client id audience)', async () => {
    const res = await get(
      '/api/tenants',
      await broker.staffToken({ user: inject('sandbox').staff.reader, version: 2 }),
    );
    expect(res.status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate without a token (RFC 6750 §3)', async () => {
    const body = await expectProblem(await get('/api/tenants'), 401, /^Bearer realm="consent-broker"$/);
    expect(body.detail).toBe('A bearer token from the vendor tenant is required.');
  });

  it.each([
    ['expired', { expiresInSeconds: -300 }, 'The token has expired.'],
    ['not valid yet', { notBeforeOffsetSeconds: 600 }, 'The token is not valid yet.'],
    ['from another tenant', { tenant: inject('sandbox').customers.contoso }, 'unexpected "iss" claim'],
    ['for another audience', { audience: 'https://graph.microsoft.com' }, 'unexpected "aud" claim'],
  ])('refuses a token %s with 401 invalid_token', async (_, request, detail) => {
    const body = await expectProblem(
      await get('/api/tenants', await broker.staffToken(request)),
      401,
      /error="invalid_token"/,
    );
    expect(body.detail).toContain(detail);
  });

  it('refuses a token without a broker role with 403 insufficient_scope', async () => {
    await expectProblem(
      await get('/api/tenants', await broker.staffToken({ roles: [] })),
      403,
      /error="insufficient_scope"/,
    );
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = await broker.staffToken();
    const [h, p] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, roles: ['Broker.Admin'], oid: 'someone-else' }),
    ).toString('base64url');
    await expectProblem(
      await get('/api/tenants', `${h}.${forged}.${token.split('.')[2]}`),
      401,
      /invalid_token/,
    );
  });

  it('checks the query strictly: unknown or repeated parameters and bad values are 400', async () => {
    const token = await broker.staffToken();
    await expectProblem(await get('/api/tenants?colour=blue', token), 400);
    await expectProblem(await get('/api/tenants?top=1&top=2', token), 400);
    await expectProblem(await get('/api/tenants?top=0', token), 400);
    await expectProblem(await get('/api/tenants?status=happy', token), 400);
    await expectProblem(await get('/api/tenants?continuationToken=%00%01', token), 400);
    await expectProblem(await get('/api/tenants/not-a-guid', token), 400);
    const missing = await expectProblem(
      await get('/api/tenants/11111111-2222-3333-4444-555555555555', token),
      404,
    );
    expect(missing.detail).toContain('11111111-2222-3333-4444-555555555555');
  });

  it('serves /api/health anonymously, without tenant data or secrets', async () => {
    const res = await get('/api/health');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      status: 'ok',
      dependencies: { tableStorage: { status: 'up' } },
    });
    expect(text).not.toContain(inject('sandbox').homeApp.clientSecret);
    expect(text).not.toContain(inject('sandbox').customers.contoso);
  });
});
