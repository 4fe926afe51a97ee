/** `POST /api/onboardings` and `GET /api/onboardings/{id}` on the wire (SPEC.md "Vendor support"). @module */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endedProfiles, loadProfiles } from '../../src/profiles/profiles.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let reader: string;
beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  reader = await broker.staffToken({ user: inject('sandbox').staff.reader });
});
afterAll(async () => {
  await broker?.close();
});

const post = (body: unknown, token = admin, contentType = 'application/json') =>
  fetch(`${broker.url}/api/onboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('onboardings API', () => {
  it('creates a consent link for a customer (201) and shows its state', async () => {
    const res = await post({ customerRef: 'ACME-0042', profiles: ['exchange-imap', 'exchange-smtp'] });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; code: string; consentUrl: string; expiresAt: string };
    expect(created).toEqual({
      id: expect.any(String),
      code: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      consentUrl: `http://localhost:7071/connect/${created.code}`,
      expiresAt: expect.any(String),
    });
    expect(res.headers.get('location')).toBe(`/api/onboardings/${created.id}`);
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(6 * 86_400_000);

    const view = await fetch(`${broker.url}/api/onboardings/${created.id}`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(view.status).toBe(200);
    const body = (await view.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: created.id,
      status: 'pending',
      customerRef: 'ACME-0042',
      profiles: ['exchange-imap', 'exchange-smtp'],
      tenantId: null,
    });
    expect(JSON.stringify(body)).not.toContain(created.code);
  });

  it('defaults to every profile that has not ended', async () => {
    const created = (await (await post({ customerRef: 'ALL' })).json()) as { id: string };
    const view = (await (
      await fetch(`${broker.url}/api/onboardings/${created.id}`, {
        headers: { authorization: `Bearer ${admin}` },
      })
    ).json()) as { profiles: string[] };
    // exchange-ews ends on 2027-04-01 (test/profiles/deprecation.test.ts): from then on it is left out.
    const all = await loadProfiles(undefined);
    expect(view.profiles).toEqual(
      [...all.profiles.keys()].filter((name) => endedProfiles(all, [name], new Date()).length === 0),
    );
    expect(view.profiles).toContain('graph-directory');
  });

  it('needs Broker.Admin to create (403 for Broker.Read) and a token at all (401)', async () => {
    expect((await post({ customerRef: 'X' }, reader)).status).toBe(403);
    expect((await fetch(`${broker.url}/api/onboardings`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it.each([
    ['no customerRef', {}, 400],
    ['an empty customerRef', { customerRef: '  ' }, 400],
    ['a control character', { customerRef: 'a\u0000b' }, 400],
    ['an unknown profile', { customerRef: 'X', profiles: ['exchange-imap', 'fax'] }, 400],
    ['a repeated profile', { customerRef: 'X', profiles: ['exchange-imap', 'exchange-imap'] }, 400],
    ['an unknown field', { customerRef: 'X', tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90' }, 400],
    ['a bad applianceId', { customerRef: 'X', applianceId: '../../etc' }, 400],
    ['an array body', [], 400],
    ['malformed JSON', '{"customerRef": ', 400],
  ])('refuses %s with problem+json', async (_, body, status) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  });

  it('refuses another content type (415) and an oversized body (413)', async () => {
    expect((await post({ customerRef: 'X' }, admin, 'text/plain')).status).toBe(415);
    expect((await post({ customerRef: 'X'.repeat(70_000) })).status).toBe(413);
  });

  it('answers 400 for a non-GUID id and 404 for an unknown one', async () => {
    const auth = { headers: { authorization: `Bearer ${admin}` } };
    expect((await fetch(`${broker.url}/api/onboardings/nope`, auth)).status).toBe(400);
    expect(
      (await fetch(`${broker.url}/api/onboardings/00000000-0000-4000-8000-000000000000`, auth)).status,
    ).toBe(404);
  });

  it('audits each onboarding created, with who created it (GET /api/audit)', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const created = (await (await post({ customerRef: 'AUDITED-1' })).json()) as { id: string; code: string };
    const res = await fetch(`${broker.url}/api/audit?since=${since}&top=1000`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const { items } = JSON.parse(text) as {
      items: { action: string; actor: { kind: string; name?: string }; details: { onboardingId?: string } }[];
    };
    const entry = items.find((e) => e.details.onboardingId === created.id);
    expect(entry).toMatchObject({
      action: 'onboarding.created',
      actor: { kind: 'staff', name: inject('sandbox').staff.admin },
    });
    expect(entry).toMatchObject({
      target: created.id,
      outcome: 'success',
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(text).not.toContain(created.code);
  });

  it.each([['tenantId=nope'], ['since=yesterday'], ['top=0'], ['colour=red']])(
    'refuses audit query %s with 400',
    async (q) => {
      const res = await fetch(`${broker.url}/api/audit?${q}`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(res.status).toBe(400);
    },
  );
});
