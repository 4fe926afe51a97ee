/**
 * Support API request bodies are checked against the schemas the OpenAPI document publishes
 * (src/http/routes/validation.ts): what the schema refuses is refused with a 400 that names the field and
 * gives the schema's rule, never the value; what it accepts comes back typed.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { CUSTOMER_REF_PATTERN } from '../../src/ids.js';
import { Problem } from '../../src/http/problem.js';
import { reasonOf, validateBody } from '../../src/http/routes/validation.js';

function refusal(run: () => unknown): { status: number; detail: string | undefined } {
  try {
    run();
  } catch (err) {
    if (err instanceof Problem) return { status: err.status, detail: err.detail };
    throw err;
  }
  throw new Error('accepted');
}

const appliance = { customerRef: 'X', profiles: ['exchange-imap'], auth: { method: 'client_secret' } };

describe('request bodies against their schemas', () => {
  it('accepts a valid body as it is', () => {
    expect(validateBody('OnboardingRequest', { customerRef: 'CONTOSO-HQ' })).toEqual({
      customerRef: 'CONTOSO-HQ',
    });
    expect(validateBody('ApplianceRequest', appliance)).toEqual(appliance);
    expect(validateBody('TenantCheckRequest', {})).toEqual({});
  });

  it.each([
    ['OnboardingRequest', {}, 'customerRef is required.'],
    ['OnboardingRequest', { customerRef: 'a\u0000b' }, 'customerRef must be 1 to 128 printable characters.'],
    [
      'OnboardingRequest',
      { customerRef: 'x'.repeat(129) },
      'customerRef must be at most 128 characters long.',
    ],
    ['OnboardingRequest', { customerRef: 7 }, 'customerRef must be a string.'],
    [
      'OnboardingRequest',
      { customerRef: 'X', tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90' },
      'Unknown field: tenantId; allowed: customerRef, applianceId, profiles.',
    ],
    [
      'OnboardingRequest',
      { customerRef: 'X', applianceId: '../../etc' },
      'applianceId must be an appliance client id (letters, digits, dot, dash, underscore; at most 100).',
    ],
    ['OnboardingRequest', { customerRef: 'X', profiles: [] }, 'profiles must list at least 1 item.'],
    [
      'OnboardingRequest',
      { customerRef: 'X', profiles: ['a', 'a'] },
      'profiles must not list the same item twice (items 0 and 1).',
    ],
    ['OnboardingRequest', { customerRef: 'X', profiles: ['Fax'] }, 'profiles.0 must be a profile name'],
    ['OnboardingRequest', [], 'The body must be an object.'],
    ['ApplianceRequest', { ...appliance, tenantId: 'nope' }, 'tenantId must be a GUID.'],
    [
      'ApplianceRequest',
      { ...appliance, auth: { method: 'mtls' } },
      'auth.method must be one of "client_secret", "private_key_jwt", "none".',
    ],
    [
      'ApplianceRequest',
      { ...appliance, auth: { method: 'client_secret', x: 1 } },
      'Unknown field: auth.x; allowed: method, jwks.',
    ],
    ['ApplianceRequest', { customerRef: 'X', auth: { method: 'client_secret' } }, 'profiles is required.'],
    ['TenantCheckRequest', { mailboxes: 'a@b.example' }, 'mailboxes must be an array.'],
    [
      'TenantCheckRequest',
      { mailboxes: Array(21).fill('a@b.example') },
      'mailboxes may list at most 20 items.',
    ],
  ] as const)('refuses %s %j: "%s"', (name, body, reason) => {
    const { status, detail } = refusal(() => validateBody(name, body));
    expect(status).toBe(400);
    expect(detail).toContain(reason);
  });

  it('never echoes the value refused', () => {
    const { detail } = refusal(() => validateBody('OnboardingRequest', { customerRef: 'secret\u0007value' }));
    expect(detail).not.toContain('secret');
  });

  it("says a format of src/ids.ts in words, keyed by the schema's pattern, and quotes any other", () => {
    const error = (pattern: string) =>
      reasonOf([{ keyword: 'pattern', instancePath: '/x', schemaPath: '#', params: { pattern } }]);
    expect(error(CUSTOMER_REF_PATTERN)).toBe('x must be 1 to 128 printable characters.');
    expect(error('^a$')).toBe('x must match the pattern ^a$.');
  });

  it('tells a oneOf as a whole, naming its choices, not by the first branch that failed', () => {
    const body = { clientId: '11111111-2222-3333-4444-555555555555', expiresOn: '2030-01-01T00:00:00Z' };
    expect(refusal(() => validateBody('AppCredentialRequest', body)).detail).toBe(
      'The body must give exactly one of clientSecret and certificate.',
    );
    expect(
      refusal(() =>
        validateBody('AppCredentialRequest', { ...body, clientSecret: 'a'.repeat(9), certificate: 'x' }),
      ).detail,
    ).toBe('The body must give exactly one of clientSecret and certificate.');
    expect(
      refusal(() => validateBody('AppCredentialRequest', { ...body, clientSecret: 'short' })).detail,
    ).toBe('clientSecret must be the secret value (8 to 1024 printable characters, no spaces), not its id.');
  });
});
