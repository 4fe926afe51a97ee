/**
 * `GET /api/openapi.json` on a started broker, and real answers of the broker checked against what that very
 * document says: the status is documented for the operation, the content type is one it lists, the body
 * validates against the documented schema (ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1), and every
 * documented required header is sent with a value its schema allows.
 * @module
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OpenApiDocument } from '../../src/http/openapi.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

let broker: TestBroker;
let doc: OpenApiDocument;
let staff: string;
let ajv: Ajv2020;

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  const res = await fetch(`${broker.url}/api/openapi.json`);
  doc = (await res.json()) as OpenApiDocument;
  ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', $defs: JSON.parse(rewriteRefs(doc.components.schemas)) as object });
});
afterAll(async () => {
  await broker?.close();
});

/** `#/components/schemas/X` → `openapi.json#/$defs/X`, so that ajv resolves them in the schema bundle. */
function rewriteRefs(value: unknown): string {
  return JSON.stringify(value).replaceAll('"#/components/schemas/', '"openapi.json#/$defs/');
}

type Json = Record<string, unknown>;

function deref(node: unknown): Json {
  const value = node as Json;
  if (typeof value.$ref !== 'string') return value;
  const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(value.$ref) ?? [];
  const target = (doc.components as unknown as Record<string, Record<string, unknown>>)[section ?? '']?.[
    name ?? ''
  ];
  if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
  return deref(target);
}

function validate(schema: unknown, value: unknown, what: string): void {
  const check = ajv.compile(JSON.parse(rewriteRefs(schema)) as object);
  if (!check(value)) throw new Error(`${what}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(value)}`);
}

/** Asserts that `res` is an answer the document describes for `method path`; returns its body. */
async function conforms(method: string, path: string, res: Response): Promise<unknown> {
  const operation = (doc.paths[path] as Record<string, Json> | undefined)?.[method.toLowerCase()];
  expect(operation, `${method} ${path} documented`).toBeDefined();
  const responses = (operation as { responses: Record<string, unknown> }).responses;
  const documented = responses[String(res.status)];
  expect(documented, `${method} ${path} documents ${res.status}`).toBeDefined();
  const response = deref(documented) as {
    headers?: Record<string, unknown>;
    content?: Record<string, { schema?: unknown }>;
  };
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = deref(h) as { required?: boolean; schema: { type?: string } };
    const value = res.headers.get(name);
    if (header.required) expect(value, `${name} on ${res.status}`).not.toBeNull();
    if (value !== null)
      validate(header.schema, header.schema.type === 'integer' ? Number(value) : value, `header ${name}`);
  }
  const text = await res.text();
  if (!response.content) {
    expect(text).toBe('');
    return undefined;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(Object.keys(response.content), `content type of ${res.status}`).toContain(type);
  const schema = response.content[type]?.schema;
  const body: unknown = /json$/.test(type) ? JSON.parse(text) : text;
  if (schema) validate(schema, body, `${method} ${path} ${res.status}`);
  return body;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const jsonType = { 'content-type': 'application/json' };
const call = (path: string, init: RequestInit = {}) =>
  fetch(`${broker.url}${path}`, { redirect: 'manual', ...init });

describe('GET /api/openapi.json', () => {
  it('answers 200 with the OpenAPI 3.1 document, anonymously', async () => {
    const res = await call('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await conforms('GET', '/api/openapi.json', res)) as OpenApiDocument;
    expect(body.openapi).toBe('3.1.1');
    expect(body.servers).toEqual([{ url: 'http://localhost:7071', description: 'BROKER_PUBLIC_URL' }]);
    expect(Object.keys(body.paths)).toContain('/oauth2/token');
  });

  it('is what the RFC 8414 metadata names as service_documentation', async () => {
    const res = await call('/.well-known/oauth-authorization-server');
    const metadata = (await conforms('GET', '/.well-known/oauth-authorization-server', res)) as Json;
    expect(metadata.service_documentation).toBe('http://localhost:7071/api/openapi.json');
  });
});

describe('real answers match the document', () => {
  it('(the check itself refuses an answer the document does not describe)', async () => {
    // The health report is not a page of tenants: no `items`.
    const health = await call('/api/health');
    await expect(conforms('GET', '/api/tenants', health)).rejects.toThrow(/items/);
    // A status the operation does not list.
    await expect(conforms('GET', '/api/health', new Response('', { status: 418 }))).rejects.toThrow(/418/);
    // A stylesheet is not the health report (its Cache-Control, then its content type).
    const css = await call('/assets/broker.css');
    await expect(conforms('GET', '/api/health', css)).rejects.toThrow(/Cache-Control/);
  });

  it('401 problem+json with WWW-Authenticate from /api/tenants without a token (RFC 9457, RFC 6750 §3)', async () => {
    const body = await conforms('GET', '/api/tenants', await call('/api/tenants'));
    expect(body).toMatchObject({ type: 'about:blank', status: 401, title: 'Unauthorized' });
  });

  it('401 invalid_token, 403 insufficient_scope, 400 bad query', async () => {
    await conforms('GET', '/api/tenants', await call('/api/tenants', { headers: bearer('not-a-jwt') }));
    const reader = await broker.staffToken({ user: inject('sandbox').staff.reader });
    const forbidden = await call('/api/appliances', {
      method: 'POST',
      headers: { ...bearer(reader), ...jsonType },
      body: '{}',
    });
    expect(forbidden.status).toBe(403);
    await conforms('POST', '/api/appliances', forbidden);
    const bad = await call('/api/tenants?filter=x', { headers: bearer(staff) });
    expect(bad.status).toBe(400);
    await conforms('GET', '/api/tenants', bad);
  });

  it('token endpoint errors: 401 invalid_client with WWW-Authenticate, 400 unsupported_grant_type (RFC 6749 §5.2)', async () => {
    const unknownClient = await call('/oauth2/token', {
      method: 'POST',
      headers: { ...form, ...basic('00000000-0000-4000-8000-000000000000', 'nope') },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
    });
    expect(unknownClient.status).toBe(401);
    expect(await conforms('POST', '/oauth2/token', unknownClient)).toMatchObject({ error: 'invalid_client' });
    const badForm = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(badForm.status).toBe(400);
    expect(await conforms('POST', '/oauth2/token', badForm)).toMatchObject({ error: 'invalid_request' });
  });

  it('GET /api/health', async () => {
    await conforms('GET', '/api/health', await call('/api/health'));
  });

  it('browser routes: an unknown consent link is a 404 page', async () => {
    const res = await call('/connect/nosuchcode');
    expect(res.status).toBe(404);
    await conforms('GET', '/connect/{code}', res);
  });

  describe('with a consented tenant and an appliance', () => {
    let tenant: ConsentedTenant;
    let appliance: { clientId: string; clientSecret: string };

    beforeAll(async () => {
      tenant = await consentedTenant(broker.url, staff, 'OpenAPI Corp', ['exchange-imap']);
      const res = await call('/api/appliances', {
        method: 'POST',
        headers: { ...bearer(staff), ...jsonType },
        body: JSON.stringify({
          customerRef: 'PBX-OPENAPI',
          tenantId: tenant.tenantId,
          profiles: ['exchange-imap'],
          auth: { method: 'client_secret' },
        }),
      });
      expect(res.status).toBe(201);
      appliance = (await conforms('POST', '/api/appliances', res)) as typeof appliance;
    });

    it('support reads: tenants, a tenant, appliances, an appliance, audit', async () => {
      const auth = { headers: bearer(staff) };
      const list = (await conforms('GET', '/api/tenants', await call('/api/tenants', auth))) as {
        items: unknown[];
      };
      expect(list.items.length).toBeGreaterThan(0);
      await conforms('GET', '/api/tenants/{tenantId}', await call(`/api/tenants/${tenant.tenantId}`, auth));
      await conforms(
        'GET',
        '/api/tenants/{tenantId}',
        await call('/api/tenants/00000000-0000-4000-8000-000000000000', auth),
      );
      await conforms(
        'GET',
        '/api/appliances',
        await call(`/api/appliances?tenantId=${tenant.tenantId}`, auth),
      );
      await conforms(
        'GET',
        '/api/appliances/{clientId}',
        await call(`/api/appliances/${appliance.clientId}`, auth),
      );
      const audit = (await conforms(
        'GET',
        '/api/audit',
        await call(`/api/audit?tenantId=${tenant.tenantId}`, auth),
      )) as { items: unknown[] };
      expect(audit.items.length).toBeGreaterThan(0);
    });

    it('the token endpoint vends (RFC 6749 §5.1), also under the Microsoft path', async () => {
      const body = 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default';
      const init = {
        method: 'POST',
        headers: { ...form, ...basic(appliance.clientId, appliance.clientSecret) },
        body,
      };
      const res = await call('/oauth2/token', init);
      expect(res.status).toBe(200);
      await conforms('POST', '/oauth2/token', res);
      const alias = await call(`/${tenant.tenantId}/oauth2/v2.0/token`, init);
      expect(alias.status).toBe(200);
      await conforms('POST', '/{tenant}/oauth2/v2.0/token', alias);
      const foreign = await call('/contoso.example/oauth2/v2.0/token', init);
      expect(foreign.status).toBe(400);
      expect(await conforms('POST', '/{tenant}/oauth2/v2.0/token', foreign)).toMatchObject({
        error: 'unauthorized_client',
      });
    });

    it('the appliance "Authorize" button: create, poll, and a 401', async () => {
      const created = await call('/appliance/onboardings', {
        method: 'POST',
        headers: basic(appliance.clientId, appliance.clientSecret),
      });
      expect(created.status).toBe(201);
      const { id } = (await conforms('POST', '/appliance/onboardings', created)) as { id: string };
      const poll = await call(`/appliance/onboardings/${id}`, {
        headers: basic(appliance.clientId, appliance.clientSecret),
      });
      await conforms('GET', '/appliance/onboardings/{id}', poll);
      const refused = await call(`/appliance/onboardings/${id}`, {
        headers: basic(appliance.clientId, 'wrong'),
      });
      expect(refused.status).toBe(401);
      await conforms('GET', '/appliance/onboardings/{id}', refused);
    });

    it('support changes: an onboarding (201, then GET), the landing page and its redirect, a rotation, a revocation', async () => {
      const created = await call('/api/onboardings', {
        method: 'POST',
        headers: { ...bearer(staff), ...jsonType },
        body: JSON.stringify({ customerRef: 'OPENAPI-2', profiles: ['exchange-imap'] }),
      });
      expect(created.status).toBe(201);
      const { id, consentUrl } = (await conforms('POST', '/api/onboardings', created)) as {
        id: string;
        consentUrl: string;
      };
      await conforms(
        'GET',
        '/api/onboardings/{id}',
        await call(`/api/onboardings/${id}`, { headers: bearer(staff) }),
      );
      const landingPath = new URL(consentUrl).pathname;
      const landing = await call(landingPath);
      expect(landing.status).toBe(200);
      await conforms('GET', '/connect/{code}', landing);
      const go = await call(`${landingPath}/go`);
      expect(go.status).toBe(302);
      await conforms('GET', '/connect/{code}/go', go);
      const callback = await call('/consent/callback?state=forged&tenant=x&admin_consent=True');
      expect(callback.status).toBe(400);
      await conforms('GET', '/consent/callback', callback);

      const rotated = await call(`/api/appliances/${appliance.clientId}/secret`, {
        method: 'POST',
        headers: bearer(staff),
      });
      await conforms('POST', '/api/appliances/{clientId}/secret', rotated);
      const revoked = await call(`/api/appliances/${appliance.clientId}`, {
        method: 'DELETE',
        headers: bearer(staff),
      });
      expect(revoked.status).toBe(204);
      await conforms('DELETE', '/api/appliances/{clientId}', revoked);
    });

    it('a refused app credential (400), then offboarding (200, the tombstone)', async () => {
      const refused = await call(`/api/tenants/${tenant.tenantId}/app-credential`, {
        method: 'PUT',
        headers: { ...bearer(staff), ...jsonType },
        body: JSON.stringify({
          clientId: 'not-a-guid',
          clientSecret: 'x',
          expiresOn: '2020-01-01T00:00:00Z',
        }),
      });
      expect(refused.status).toBe(400);
      await conforms('PUT', '/api/tenants/{tenantId}/app-credential', refused);
      const offboarded = await call(`/api/tenants/${tenant.tenantId}`, {
        method: 'DELETE',
        headers: bearer(staff),
      });
      expect(offboarded.status).toBe(200);
      expect(await conforms('DELETE', '/api/tenants/{tenantId}', offboarded)).toMatchObject({
        status: 'offboarded',
      });
    });
  });
});
