/**
 * The OpenAPI document states the same formats and limits the code enforces, because both read them from one
 * place: src/ids.ts (GUID, customer reference, appliance reference, profile name, domain, continuation token)
 * and src/http/routes/limits.ts (page sizes, body size), and src/support/mailbox-address.ts (mailbox counts).
 * @module
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  APPLIANCE_REF,
  APPLIANCE_REF_PATTERN,
  CONTINUATION_TOKEN_MAX_LENGTH,
  CONTINUATION_TOKEN_PATTERN,
  CUSTOMER_REF,
  CUSTOMER_REF_MAX_LENGTH,
  CUSTOMER_REF_PATTERN,
  DOMAIN_NAME_PATTERN,
  GUID,
  GUID_PATTERN,
  PROFILE_NAME_PATTERN,
} from '../../src/ids.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { AUDIT_PAGE_SIZE, PAGE_SIZE } from '../../src/http/routes/limits.js';
import { MAX_CHECK_MAILBOXES, MAX_SCRIPT_MAILBOXES } from '../../src/support/mailbox-address.js';

const doc = openApiDocument({ publicUrl: 'http://localhost:7071' });
const wire = JSON.parse(JSON.stringify(doc)) as unknown;

/** Every value of `key` anywhere in the document. */
function valuesOf(key: string, node: unknown = wire): unknown[] {
  if (Array.isArray(node)) return node.flatMap((n) => valuesOf(key, n));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) => [...(k === key ? [v] : []), ...valuesOf(key, v)]);
}

type Node = Record<string, unknown>;
const schema = (name: string) => doc.components.schemas[name] as Node & { properties: Record<string, Node> };
const query = (path: string, name: string) =>
  (doc.paths[path]?.get?.parameters ?? []).find((p) => 'name' in p && p.name === name) as
    { schema: Node } | undefined;

describe('the OpenAPI schemas carry the constants of the code', () => {
  it('has one GUID pattern, the one src/ids.ts compiles', () => {
    const guidLike = valuesOf('pattern').filter((p) => typeof p === 'string' && p.includes('{12}'));
    expect(guidLike.length).toBeGreaterThanOrEqual(5);
    expect(new Set(guidLike)).toEqual(new Set([GUID_PATTERN]));
    expect(GUID.source).toBe(GUID_PATTERN);
  });

  it('describes customerRef as the code checks it, in bodies and in the tenant filter', () => {
    for (const property of [
      schema('OnboardingRequest').properties.customerRef,
      schema('ApplianceRequest').properties.customerRef,
      query('/api/tenants', 'customerRef')?.schema,
    ]) {
      expect(property).toMatchObject({
        minLength: 1,
        maxLength: CUSTOMER_REF_MAX_LENGTH,
        pattern: CUSTOMER_REF_PATTERN,
      });
    }
    expect(CUSTOMER_REF.source).toBe(CUSTOMER_REF_PATTERN);
  });

  it('accepts and refuses the same customer references in the schema (ajv) as in the code', () => {
    const check = new Ajv2020({ strict: true }).compile(schema('OnboardingRequest').properties.customerRef!);
    for (const value of [
      'CONTOSO-HQ',
      'Zürich site 7',
      'x'.repeat(128),
      '',
      'x'.repeat(129),
      'a\u0000b',
      'a\u200bb',
      'a\nb',
    ]) {
      expect(check(value), JSON.stringify(value)).toBe(CUSTOMER_REF.test(value));
    }
  });

  it('carries the appliance reference, profile name, domain and continuation token formats', () => {
    expect(schema('OnboardingRequest').properties.applianceId?.pattern).toBe(APPLIANCE_REF_PATTERN);
    expect(APPLIANCE_REF.source).toBe(APPLIANCE_REF_PATTERN);
    expect((schema('OnboardingRequest').properties.profiles as { items: Node }).items.pattern).toBe(
      PROFILE_NAME_PATTERN,
    );
    expect(query('/api/tenants', 'domain')?.schema.pattern).toBe(DOMAIN_NAME_PATTERN);
    expect(doc.components.parameters.ContinuationToken?.schema).toMatchObject({
      maxLength: CONTINUATION_TOKEN_MAX_LENGTH,
      pattern: CONTINUATION_TOKEN_PATTERN,
    });
  });

  it('states the page sizes and mailbox counts the handlers enforce', () => {
    expect(doc.components.parameters.Top?.schema).toMatchObject({
      maximum: PAGE_SIZE.max,
      default: PAGE_SIZE.default,
    });
    expect(query('/api/audit', 'top')?.schema).toMatchObject({
      maximum: AUDIT_PAGE_SIZE.max,
      default: AUDIT_PAGE_SIZE.default,
    });
    expect(schema('TenantCheckRequest').properties.mailboxes?.maxItems).toBe(MAX_CHECK_MAILBOXES);
    expect(query('/api/tenants/{tenantId}/exchange-setup.ps1', 'mailboxes')?.schema.maxItems).toBe(
      MAX_SCRIPT_MAILBOXES,
    );
  });
});
