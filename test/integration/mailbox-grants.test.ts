/**
 * Mailbox grants through the support API on the wire (src/http/mailbox-grants-api.ts, src/grants/grants.ts):
 * support creates a grant for an appliance of a consented tenant with delegated profiles that appliance is
 * allowed, and gets a link for the mailbox's user once; lists and reads the tenant's grants (never a code);
 * revokes one, audited; offboarding the tenant deletes its grants. Bad input is a clear 4xx and stores nothing.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let reader: string;
let tenant: ConsentedTenant;
let applianceId: string;

const api = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
  fetch(`${broker.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? admin}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });

const grants = () => `/api/tenants/${tenant.tenantId}/mailbox-grants`;

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  reader = await broker.staffToken({ roles: ['Broker.Read'] });
  tenant = await consentedTenant(broker.url, admin, 'Grant Queue Ltd');
  const res = await api('/api/appliances', {
    method: 'POST',
    body: {
      customerRef: 'PBX-GRANTS',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap', 'user-imap', 'user-smtp'],
      auth: { method: 'client_secret' },
    },
  });
  expect(res.status).toBe(201);
  applianceId = ((await res.json()) as { clientId: string }).clientId;
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

describe('support makes a mailbox grant', () => {
  it('answers 201 with a link for the mailbox’s user, shown once; the grant reads as pending', async () => {
    const res = await api(grants(), {
      method: 'POST',
      body: { applianceId, profiles: ['user-imap'], mailbox: `Queue@${tenant.domain}` },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; consentUrl: string; expiresAt: string };
    expect(created.consentUrl).toMatch(/^http:\/\/localhost:7071\/mailbox-grants\/[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get('location')).toBe(`${grants()}/${created.id}`);
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(6 * 86_400_000);

    const read = await api(`${grants()}/${created.id}`, { token: reader });
    expect(read.status).toBe(200);
    const grant = (await read.json()) as Record<string, unknown>;
    expect(grant).toMatchObject({
      id: created.id,
      tenantId: tenant.tenantId,
      applianceId,
      profiles: ['user-imap'],
      mailbox: `queue@${tenant.domain}`,
      status: 'pending',
      user: null,
      error: null,
    });
    const code = created.consentUrl.split('/').pop()!;
    expect(JSON.stringify(grant)).not.toContain(code);

    const list = (await (await api(grants(), { token: reader })).json()) as { items: { id: string }[] };
    expect(list.items.map((g) => g.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(code);
  });

  it.each([
    [
      'an application profile',
      { profiles: ['exchange-imap'] },
      400,
      'exchange-imap is an application profile',
    ],
    [
      'a delegated profile the appliance is not allowed',
      { profiles: ['user-pop'] },
      400,
      'not allowed user-pop',
    ],
    ['an unknown profile', { profiles: ['user-fax'] }, 400, 'user-fax is not a profile'],
    [
      'a mailbox of another domain',
      { profiles: ['user-imap'], mailbox: 'a@elsewhere.example' },
      400,
      'not a verified domain',
    ],
    ['an address that is not one', { profiles: ['user-imap'], mailbox: 'not an address' }, 400, 'mailbox'],
    ['an unknown field', { profiles: ['user-imap'], refreshToken: 'x' }, 400, 'refreshToken'],
    ['no profiles', { profiles: [] }, 400, 'profiles'],
    [
      'an appliance of no tenant',
      { applianceId: '00000000-0000-4000-8000-000000000001', profiles: ['user-imap'] },
      404,
      'No active appliance',
    ],
  ])('refuses %s, storing nothing', async (_, change, status, words) => {
    const before = ((await (await api(grants())).json()) as { items: unknown[] }).items.length;
    const res = await api(grants(), { method: 'POST', body: { applianceId, ...change } });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { detail: string }).detail).toContain(words);
    expect(((await (await api(grants())).json()) as { items: unknown[] }).items.length).toBe(before);
  });

  it('refuses Broker.Read to create or revoke (403), and an unknown grant (404)', async () => {
    expect(
      (await api(grants(), { method: 'POST', token: reader, body: { applianceId, profiles: ['user-imap'] } }))
        .status,
    ).toBe(403);
    expect((await api(`${grants()}/00000000-0000-4000-8000-000000000002`)).status).toBe(404);
    expect((await api(`${grants()}/not-a-guid`)).status).toBe(400);
  });

  it('revokes a grant for good, audited; revoking again changes nothing', async () => {
    const created = (await (
      await api(grants(), { method: 'POST', body: { applianceId, profiles: ['user-smtp'] } })
    ).json()) as { id: string };
    const revoked = await api(`${grants()}/${created.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { status: string }).status).toBe('revoked');
    expect(
      ((await (await api(`${grants()}/${created.id}`, { method: 'DELETE' })).json()) as { status: string })
        .status,
    ).toBe('revoked');
    const audit = (await (await api(`/api/audit?tenantId=${tenant.tenantId}`)).json()) as {
      items: { action: string; target: string | null }[];
    };
    const actions = audit.items.filter((e) => e.target === created.id).map((e) => e.action);
    expect(actions).toEqual(['mailbox_grant.created', 'mailbox_grant.revoked']);
  });

  it('refuses a grant for a tenant whose consent is not in place (409), and offboarding deletes its grants', async () => {
    const other = await consentedTenant(broker.url, admin, 'Grant Offboard Ltd');
    const appliance = (await (
      await api('/api/appliances', {
        method: 'POST',
        body: {
          customerRef: 'PBX-OFF',
          tenantId: other.tenantId,
          profiles: ['user-imap'],
          auth: { method: 'client_secret' },
        },
      })
    ).json()) as { clientId: string };
    const path = `/api/tenants/${other.tenantId}/mailbox-grants`;
    expect(
      (
        await api(path, {
          method: 'POST',
          body: { applianceId: appliance.clientId, profiles: ['user-imap'] },
        })
      ).status,
    ).toBe(201);
    expect((await api(`/api/tenants/${other.tenantId}`, { method: 'DELETE' })).status).toBe(200);
    expect(((await (await api(path)).json()) as { items: unknown[] }).items).toEqual([]);
    const again = await api(path, {
      method: 'POST',
      body: { applianceId: appliance.clientId, profiles: ['user-imap'] },
    });
    // An offboarded tenant's consent is gone: 409, naming its status.
    expect(again.status).toBe(409);
    expect(((await again.json()) as { detail: string }).detail).toContain('is offboarded');
  });
});
