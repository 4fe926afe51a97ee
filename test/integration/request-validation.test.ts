/**
 * On the wire, a support API body that the published OpenAPI schema refuses (checked here with ajv against
 * the document `GET /api/openapi.json` serves) is refused with 400 problem+json giving that schema's reason
 * and naming the field (src/http/routes/validation.ts); nothing is created.
 * @module
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../src/http/openapi.js';
import { CUSTOMER_REF_MAX_LENGTH } from '../../src/ids.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let documentRefuses: (schema: string, body: unknown) => boolean;

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  const doc = (await (await fetch(`${broker.url}/api/openapi.json`)).json()) as OpenApiDocument;
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({
    $id: 'doc',
    $defs: JSON.parse(
      JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"doc#/$defs/'),
    ) as object,
  });
  documentRefuses = (schema, body) => !ajv.validate({ $ref: `doc#/$defs/${schema}` }, body);
});
afterAll(async () => {
  await broker?.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${broker.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('bodies the schema refuses', () => {
  it.each([
    [
      '/api/onboardings',
      'OnboardingRequest',
      { customerRef: 'a\u0000b' },
      `customerRef must be 1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters.`,
    ],
    [
      '/api/onboardings',
      'OnboardingRequest',
      { customerRef: 'X', profiles: ['exchange-imap', 'exchange-imap'] },
      'profiles must not list the same item twice (items 0 and 1).',
    ],
    [
      '/api/appliances',
      'ApplianceRequest',
      { customerRef: 'X', profiles: ['exchange-imap'], auth: { method: 'mtls' } },
      'auth.method must be one of "client_secret", "private_key_jwt", "none".',
    ],
    [
      '/api/tenants/c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90/check',
      'TenantCheckRequest',
      { mailboxes: 'a@contoso.example' },
      'mailboxes must be an array.',
    ],
  ])('POST %s refuses %s %j with its reason', async (path, schema, body, reason) => {
    expect(documentRefuses(schema, body)).toBe(true);
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await res.json()) as { detail: string }).detail).toContain(reason);
  });
});
