/**
 * The tenant lifecycle (src/tenants/lifecycle.ts), walked row by row: for each rule of TRANSITIONS
 * (src/tenants/transitions.ts) one example of its event on a record in one of its `from` statuses, which must
 * apply that very rule, end in one of its `to` statuses (or write nothing) and name its audit action.
 * docs/tenant-lifecycle.md prints the same table.
 * @module
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  nextTenant,
  RECHECKED_STATUSES,
  TRANSITIONS,
  type RuleName,
  type TenantEvent,
  type TenantProof,
  type Transition,
} from '../../src/tenants/lifecycle.js';
import { newTenantRecord, type TenantRecord, type TenantStatus } from '../../src/tenants/tenant-store.js';

const NOW = new Date('2026-03-02T12:00:00.000Z');
const TENANT = 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90';
const IMAP = 'https://outlook.office365.com/.default';
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000).toISOString();

function tenant(status: TenantStatus, more: Partial<TenantRecord> = {}): TenantRecord {
  return {
    ...newTenantRecord(TENANT),
    status,
    displayName: 'Contoso',
    customerRefs: ['CUST-1'],
    consentedAt: at(-86_400),
    profiles: ['exchange-imap'],
    grantedRoles: { [IMAP]: ['IMAP.AccessAsApp'] },
    servicePrincipalId: 'sp-1',
    etag: 'W/"datetime\'2026-03-01T00%3A00%3A00Z\'"',
    ...more,
  };
}
const pending = (sinceSeconds: number, attempts = 0) =>
  tenant('pending_verification', {
    verification: { since: at(-sinceSeconds), attempts, nextCheckAt: at(0), onboardingId: 'onb-1' },
  });
const withCredential = (status: TenantStatus, more: Partial<TenantRecord> = {}) =>
  tenant(status, { appCredential: { clientId: 'own-app', expiresOn: at(3 * 86_400) }, ...more });
const lastError = (code: string) => ({ code, message: 'before', at: at(-60), remediation: 'before' });

const proven = (missingRoles: Record<string, string[]> = {}): TenantProof => ({
  kind: 'proven',
  servicePrincipalId: 'sp-1',
  grantedRoles: { [IMAP]: ['IMAP.AccessAsApp'] },
  missingRoles,
  displayName: 'Contoso Ltd',
  verifiedDomains: ['contoso.example'],
});
const consentMissing: TenantProof = {
  kind: 'unprovable',
  code: 'AADSTS7000229',
  message: 'Entra ID does not show the consent yet (directory replication).',
  retryAfterSeconds: 30,
};
const unavailable: TenantProof = {
  kind: 'unprovable',
  code: 'entra_unavailable',
  message: 'Microsoft Entra ID could not be reached.',
  retryAfterSeconds: 5,
};
const refused = (code = 'AADSTS7000112'): TenantProof => ({
  kind: 'refused',
  code,
  message: 'App disabled.',
});
const consent = (proof: TenantProof): TenantEvent => ({
  kind: 'consent',
  consent: {
    tenantId: TENANT,
    onboardingId: 'onb-2',
    customerRef: 'CUST-2',
    profiles: ['graph-mail'],
    consentedBy: { objectId: 'admin-1', displayName: 'Ada Admin' },
  },
  proof,
});

interface Case {
  readonly current: TenantRecord | undefined;
  readonly event: TenantEvent;
  readonly expect?: (next: TenantRecord, current: TenantRecord | undefined) => void;
}

/** One example per rule; `satisfies` makes a rule without an example a type error. */
const CASES = {
  'consent-refused': {
    current: undefined,
    event: consent(refused()),
    expect: (next) => {
      expect(next).toMatchObject({ customerRefs: ['CUST-2'], verification: null });
      expect(next.lastError).toEqual({
        code: 'AADSTS7000112',
        message: 'App disabled.',
        at: NOW.toISOString(),
        remediation: expect.stringMatching(/enterprise application is disabled/),
      });
    },
  },
  'consent-unprovable': {
    current: tenant('active', { lastTokenAt: at(-5) }),
    event: consent(consentMissing),
    expect: (next) => {
      expect(next).toMatchObject({
        customerRefs: ['CUST-1', 'CUST-2'],
        profiles: ['exchange-imap', 'graph-mail'],
        consentedAt: NOW.toISOString(),
        consentedBy: { objectId: 'admin-1', displayName: 'Ada Admin' },
        lastTokenAt: at(-5),
        lastError: null,
        verification: { since: NOW.toISOString(), attempts: 0, nextCheckAt: at(30), onboardingId: 'onb-2' },
      });
      // A consent is saved unconditionally (TenantStore.save): its record is built afresh, without an etag.
      expect(next.etag).toBeUndefined();
    },
  },
  'consent-proven': {
    // Re-onboarding: a new consent makes an offboarded tenant usable again.
    current: tenant('offboarded'),
    event: consent(proven()),
    expect: (next) =>
      expect(next).toMatchObject({
        status: 'active',
        displayName: 'Contoso Ltd',
        verifiedDomains: ['contoso.example'],
        verification: null,
      }),
  },
  'verification-proven': {
    current: pending(120, 3),
    event: { kind: 'verification', proof: proven({ 'graph-mail': ['Mail.Send'] }) },
    expect: (next) =>
      expect(next).toMatchObject({
        status: 'degraded',
        missingRoles: { 'graph-mail': ['Mail.Send'] },
        verification: null,
      }),
  },
  'verification-refused': {
    current: pending(120),
    event: { kind: 'verification', proof: refused() },
    expect: (next) =>
      expect(next).toMatchObject({ verification: null, lastError: { code: 'AADSTS7000112' } }),
  },
  'verification-timeout': {
    current: pending(24 * 3_600),
    event: { kind: 'verification', proof: consentMissing },
    expect: (next) =>
      expect(next).toMatchObject({
        verification: null,
        lastError: {
          code: 'verification_timeout',
          message: 'The consent could not be confirmed with Microsoft Entra ID within 24 hours.',
        },
      }),
  },
  'verification-retry': {
    current: pending(60, 2),
    event: { kind: 'verification', proof: unavailable },
    // 15 s · 2^3 = 120 s, more than the 5 s Retry-After.
    expect: (next, current) =>
      expect(next.verification).toEqual({ ...current!.verification, attempts: 3, nextCheckAt: at(120) }),
  },
  'recheck-awaits-credential': {
    current: withCredential('error', { lastError: lastError('credential_expired') }),
    event: { kind: 'recheck', proof: proven() },
  },
  'recheck-restored': {
    current: tenant('revoked', { lastError: lastError('AADSTS7000229') }),
    event: { kind: 'recheck', proof: proven() },
    expect: (next) => expect(next).toMatchObject({ status: 'active', lastError: null }),
  },
  'recheck-roles-changed': {
    current: tenant('active', { grantedRoles: { [IMAP]: [] } }),
    event: { kind: 'recheck', proof: proven() },
    expect: (next) => expect(next.grantedRoles).toEqual({ [IMAP]: ['IMAP.AccessAsApp'] }),
  },
  'recheck-same': {
    current: tenant('active'),
    event: { kind: 'recheck', proof: proven() },
  },
  'recheck-revoked': {
    current: tenant('degraded'),
    event: { kind: 'recheck', proof: consentMissing },
    expect: (next) =>
      expect(next.lastError).toMatchObject({
        code: 'AADSTS7000229',
        message: 'The consent was removed in the tenant.',
        remediation: expect.stringMatching(/consent link again/),
      }),
  },
  'recheck-still-revoked': {
    current: tenant('revoked', { lastError: lastError('AADSTS7000229') }),
    event: { kind: 'recheck', proof: consentMissing },
  },
  'recheck-refused': {
    current: tenant('active'),
    event: { kind: 'recheck', proof: refused('AADSTS7000215') },
    expect: (next) => expect(next.lastError).toMatchObject({ code: 'AADSTS7000215' }),
  },
  'recheck-same-refusal': {
    current: tenant('error', { lastError: lastError('AADSTS7000215') }),
    event: { kind: 'recheck', proof: refused('AADSTS7000215') },
  },
  'recheck-nothing-learned': {
    current: tenant('active'),
    event: { kind: 'recheck', proof: unavailable },
  },
  'credential-offboarded': {
    current: withCredential('offboarded'),
    event: { kind: 'credential_set', proof: proven() },
  },
  'credential-proven': {
    current: withCredential('pending_verification', { servicePrincipalId: null }),
    event: { kind: 'credential_set', proof: proven() },
    expect: (next) => expect(next).toMatchObject({ servicePrincipalId: 'sp-1', verification: null }),
  },
  'credential-refused': {
    current: tenant('active'),
    event: { kind: 'credential_removed', proof: refused() },
    expect: (next) => expect(next.lastError).toMatchObject({ code: 'AADSTS7000112' }),
  },
  'credential-unavailable': {
    current: withCredential('active'),
    event: { kind: 'credential_set', proof: unavailable },
  },
  'credential-removed-no-consent': {
    current: tenant('active'),
    event: { kind: 'credential_removed', proof: consentMissing },
    expect: (next) =>
      expect(next).toMatchObject({
        verification: null,
        lastError: { code: 'AADSTS7000229', message: consentMissing.message },
      }),
  },
  'credential-pending': {
    current: withCredential('active'),
    event: { kind: 'credential_set', proof: consentMissing },
    // No onboarding waits for this proof: the record names none.
    expect: (next) =>
      expect(next.verification).toEqual({ since: NOW.toISOString(), attempts: 0, nextCheckAt: at(15) }),
  },
  'expiry-flagged': {
    current: withCredential('degraded', { lastError: lastError('credential_expiring') }),
    event: { kind: 'credential_expiring' },
  },
  'expiry-expiring-active': {
    current: withCredential('active'),
    event: { kind: 'credential_expiring' },
    expect: (next) =>
      expect(next.lastError).toEqual({
        code: 'credential_expiring',
        message: `The tenant's own app credential (client own-app) expires on ${at(3 * 86_400)}.`,
        at: NOW.toISOString(),
        remediation:
          'Create a new client secret or certificate for that app registration in the customer tenant and store it with PUT /api/tenants/{tenantId}/app-credential.',
      }),
  },
  'expiry-expiring-other': {
    current: withCredential('revoked', { lastError: lastError('AADSTS7000229') }),
    event: { kind: 'credential_expiring' },
    expect: (next) =>
      expect(next).toMatchObject({ status: 'revoked', lastError: { code: 'credential_expiring' } }),
  },
  'expiry-expired': {
    current: withCredential('degraded', { lastError: lastError('credential_expiring') }),
    event: { kind: 'credential_expired' },
    expect: (next) =>
      expect(next.lastError).toMatchObject({
        code: 'credential_expired',
        message: `The tenant's own app credential (client own-app) expired on ${at(3 * 86_400)}.`,
      }),
  },
  'expiry-not-applicable': {
    current: withCredential('offboarded'),
    event: { kind: 'credential_expired' },
  },
  offboarding: {
    current: tenant('error', { lastError: lastError('AADSTS7000112') }),
    event: { kind: 'offboarding' },
    expect: (next, current) =>
      expect(next).toEqual({ ...current, status: 'offboarded', verification: null, lastError: null }),
  },
} satisfies Record<RuleName, Case>;

describe('tenant lifecycle: one test per transition (src/tenants/lifecycle.ts TRANSITIONS)', () => {
  for (const [rule, example] of Object.entries(CASES) as [RuleName, Case][]) {
    const row = TRANSITIONS[rule];
    it(`${rule}: ${row.on.join(' | ')} when ${row.when}`, () => {
      expect(row.from).toContain(example.current?.status ?? 'none');
      expect(row.on).toContain(example.event.kind);
      const result: Transition = nextTenant(example.current!, example.event, NOW);
      expect(result.rule).toBe(rule);
      if (row.to === 'unchanged') {
        expect(result.next).toBe('unchanged');
        return;
      }
      if (result.next === 'unchanged') throw new Error(`${rule} wrote nothing`);
      expect(row.to).toContain(result.next.status);
      expect(result).toMatchObject({ audit: row.audit });
      expect(result.next.tenantId).toBe(TENANT);
      // Every write but a consent's is conditional on the record read: the etag goes through.
      if (row.on[0] !== 'consent') expect(result.next.etag).toBe(example.current?.etag);
      example.expect?.(result.next, example.current);
    });
  }

  it('has an example for every rule and no example for a rule it does not know', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(TRANSITIONS).sort());
  });

  it('re-checks exactly the statuses of tenants proven once', () => {
    expect(RECHECKED_STATUSES).toEqual(['active', 'degraded', 'revoked', 'error']);
  });

  it('is printed in docs/tenant-lifecycle.md, rule by rule', () => {
    const doc = readFileSync(new URL('../../docs/tenant-lifecycle.md', import.meta.url), 'utf8');
    for (const rule of Object.keys(TRANSITIONS)) expect(doc).toContain(`\`${rule}\``);
  });
});
