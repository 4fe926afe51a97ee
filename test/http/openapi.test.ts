/**
 * The OpenAPI document (src/http/openapi.ts) is valid OpenAPI 3.1, checked with a real validator
 * (@seriousme/openapi-schema-validator, the OAS 3.1 JSON Schema), its schemas compile as JSON Schema 2020-12
 * in ajv's strict mode, every `$ref` resolves, and it names every route of SPEC.md "HTTP surface".
 * @module
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { openApiDocument, openApiReply } from '../../src/http/openapi.js';

const publicUrl = 'https://broker.example.com';
const profiles = await loadProfiles(undefined);
const doc = openApiDocument({ publicUrl, profiles, vendorName: 'Example Telephony' });
/** The document as it goes over the wire (the validator dereferences it in place: hence a copy each time). */
const onWire = () => JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
const wire = onWire();

/** SPEC.md "HTTP surface", route by route. */
const SPEC_ROUTES = [
  'GET /connect/{code}',
  'GET /connect/{code}/go',
  'GET /consent/callback',
  'GET /consent/signin',
  'POST /oauth2/token',
  'POST /{tenant}/oauth2/v2.0/token',
  'GET /.well-known/oauth-authorization-server',
  'POST /appliance/onboardings',
  'GET /appliance/onboardings/{id}',
  'POST /api/onboardings',
  'GET /api/onboardings/{id}',
  'GET /api/tenants',
  'GET /api/tenants/{tenantId}',
  'POST /api/tenants/{tenantId}/check',
  'GET /api/tenants/{tenantId}/exchange-setup.ps1',
  'PUT /api/tenants/{tenantId}/app-credential',
  'DELETE /api/tenants/{tenantId}/app-credential',
  'DELETE /api/tenants/{tenantId}',
  'POST /api/appliances',
  'GET /api/appliances',
  'GET /api/appliances/{clientId}',
  'DELETE /api/appliances/{clientId}',
  'POST /api/appliances/{clientId}/secret',
  'GET /api/audit',
  'GET /api/openapi.json',
  'GET /api/health',
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

function operations() {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((m) => {
      const op = item[m];
      return op ? [{ key: `${m.toUpperCase()} ${path}`, path, item, op }] : [];
    }),
  );
}

/** Every `$ref` in a JSON value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
}

function resolvePointer(root: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (node, key) =>
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined,
      root,
    );
}

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (the OAS 3.1 schema, with @seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator({ strict: false });
    const result = await validator.validate(onWire());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Dereferencing fails on a reference that points nowhere.
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('is checked by a validator that refuses a broken document (a response without its description)', async () => {
    const broken = onWire() as { paths: Record<string, { get?: { responses: Record<string, object> } }> };
    broken.paths['/api/health']!.get!.responses['200'] = { content: {} };
    const result = await new Validator({ strict: false }).validate(broken);
    expect(result.valid).toBe(false);
  });

  it('has every $ref pointing at a component that exists', () => {
    const all = refs(wire);
    expect(all.length).toBeGreaterThan(50);
    for (const r of new Set(all)) {
      expect(r, r).toMatch(/^#\/components\/(schemas|responses|parameters|headers)\/[A-Za-z][A-Za-z0-9]*$/);
      expect(resolvePointer(wire, r), r).toBeDefined();
    }
  });

  it('has schemas that compile as JSON Schema 2020-12 in strict mode (OAS 3.1 §4.8.24)', () => {
    // strictRequired off: `oneOf: [{required: [a]}, {required: [b]}]` names properties defined beside it.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats.default(ajv);
    // The component schemas as one JSON Schema resource, `#/components/schemas/X` becoming `#/$defs/X`.
    const $defs = JSON.parse(
      JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
    ) as Record<string, object>;
    ajv.addSchema({ $id: 'openapi.json', $defs });
    for (const name of Object.keys($defs)) {
      expect(() => ajv.compile({ $ref: `openapi.json#/$defs/${name}` }), name).not.toThrow();
    }
  });

  it('names every route of SPEC.md "HTTP surface", each once, with a unique operationId', () => {
    const ops = operations();
    // Beyond SPEC.md: the stylesheet, the appliance confirmation (POST /consent/confirm), the
    // Microsoft-shaped authority of README "Firmware that changes only the host", and support's mailbox grants
    // and the device-code flow (README "Delegated mailboxes"), and self-enrollment.
    expect(ops.map((o) => o.key).sort()).toEqual(
      [
        ...SPEC_ROUTES,
        'GET /assets/broker.css',
        'GET /assets/console.js',
        'POST /consent/confirm',
        'POST /{tenant}/oauth2/token',
        'GET /{tenant}/v2.0/.well-known/openid-configuration',
        'GET /{tenant}/.well-known/openid-configuration',
        'GET /{tenant}/oauth2/v2.0/authorize',
        'GET /{tenant}/oauth2/authorize',
        'POST /api/tenants/{tenantId}/mailbox-grants',
        'GET /api/tenants/{tenantId}/mailbox-grants',
        'GET /api/tenants/{tenantId}/mailbox-grants/{grantId}',
        'DELETE /api/tenants/{tenantId}/mailbox-grants/{grantId}',
        'GET /mailbox-grants/{grantCode}',
        'GET /mailbox-grants/{grantCode}/go',
        'GET /mailbox-grants/callback',
        'GET /appliance/mailbox-grants',
        'POST /appliance/mailbox-grants',
        'GET /appliance/mailbox-grants/{grantId}',
        'POST /{tenant}/oauth2/v2.0/devicecode',
        'GET /device',
        'GET /device/go',
        // README "A PBX that enrolls itself".
        'POST /appliance/enroll',
        'GET /enroll',
        'GET /enroll/go',
        // Webhooks and the support console (issue 22).
        'POST /api/webhooks',
        'GET /api/webhooks',
        'GET /api/webhooks/{webhookId}',
        'POST /api/webhooks/{webhookId}/enable',
        'DELETE /api/webhooks/{webhookId}',
        'GET /console',
        'GET /console/signin',
        'GET /console/callback',
        'POST /console/signout',
        'GET /console/tenants',
        'GET /console/tenants/{tenantId}',
        'POST /console/tenants/{tenantId}/check',
        'GET /console/tenants/{tenantId}/exchange-setup.ps1',
        'POST /console/tenants/{tenantId}/onboardings',
        'POST /console/tenants/{tenantId}/appliances',
        'POST /console/appliances/{clientId}/secret',
        'POST /console/appliances/{clientId}/revoke',
        'POST /console/tenants/{tenantId}/offboard',
        'GET /console/webhooks',
      ].sort(),
    );
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares every path template parameter of every operation', () => {
    for (const { key, path, item, op } of operations()) {
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .map((p) => ('$ref' in p ? resolvePointer(wire, p.$ref) : p))
        .filter((p): p is { name: string; in: string } => typeof p === 'object' && p !== null)
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(declared, key).toEqual(inPath);
    }
  });

  it('asks for the role SPEC.md names: Broker.Read to read, Broker.Admin to change', () => {
    for (const { key, op } of operations().filter((o) => o.path.startsWith('/api/'))) {
      const anonymous = key === 'GET /api/openapi.json' || key === 'GET /api/health';
      if (anonymous) {
        expect(op.security, key).toEqual([]);
        continue;
      }
      const changes = !key.startsWith('GET ') && key !== 'POST /api/tenants/{tenantId}/check';
      expect(op.security, key).toEqual([{ staff: [changes ? 'Broker.Admin' : 'Broker.Read'] }]);
      expect(Object.keys(op.responses), key).toEqual(expect.arrayContaining(['401', '403', '503']));
    }
  });

  it('is built from the configuration: server URL, profiles and resource scopes', () => {
    expect(doc.servers).toEqual([{ url: publicUrl, description: 'BROKER_PUBLIC_URL' }]);
    expect(doc.info.title).toBe('Consent Broker (Example Telephony)');
    const names = [...profiles.profiles.keys()];
    expect(names).toContain('exchange-imap');
    expect(resolvePointer(wire, '#/components/schemas/OnboardingRequest/properties/profiles/items')).toEqual({
      type: 'string',
      enum: names,
    });
    expect(resolvePointer(wire, '#/components/schemas/TokenRequest/properties/scope/examples')).toEqual(
      expect.arrayContaining([
        'https://outlook.office365.com/.default',
        'https://graph.microsoft.com/.default',
      ]),
    );
    const bare = openApiDocument({ publicUrl: 'http://localhost:7071' });
    expect(bare.servers[0]?.url).toBe('http://localhost:7071');
    expect(bare.info.title).toBe('Consent Broker');
  });

  it('is served as JSON, cacheable, the same text for the same configuration', () => {
    const a = openApiReply({ publicUrl, profiles });
    const b = openApiReply({ publicUrl, profiles });
    expect(a.status).toBe(200);
    expect(a.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
    });
    expect(b.body).toBe(a.body);
    expect(JSON.parse(a.body ?? '')).toEqual(
      JSON.parse(JSON.stringify(openApiDocument({ publicUrl, profiles }))),
    );
    const other = openApiReply({ publicUrl: 'https://other.example.com', profiles });
    expect((JSON.parse(other.body ?? '') as { servers: unknown }).servers).toEqual([
      { url: 'https://other.example.com', description: 'BROKER_PUBLIC_URL' },
    ]);
  });

  it('carries no secret: no client secret, key or token values, only their names', () => {
    const text = JSON.stringify(wire);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/); // no real JWT
    expect(text).not.toMatch(/-----BEGIN/);
  });
});
