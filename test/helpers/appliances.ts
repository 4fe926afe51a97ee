/** A registered appliance record for store and directory tests: an active client_secret appliance, overridable. @module */
import { randomUUID } from 'node:crypto';
import type { Appliance } from '../../src/appliances/appliance-store.js';

export function applianceRecord(overrides: Partial<Appliance> = {}): Appliance {
  return {
    clientId: randomUUID(),
    customerRef: 'TEST-1',
    tenantId: null,
    profiles: ['exchange-imap'],
    authMethod: 'client_secret',
    secrets: [],
    jwks: [],
    status: 'active',
    createdAt: new Date().toISOString(),
    createdBy: 'test',
    revokedAt: null,
    lastSeenAt: null,
    tokenCount: 0,
    ...overrides,
  };
}

/** client_secret_basic (RFC 6749 §2.3.1): the client id and the form-encoded secret, base64. */
export const basicAuth = (c: { readonly clientId: string; readonly clientSecret: string }) =>
  `Basic ${Buffer.from(`${c.clientId}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;
