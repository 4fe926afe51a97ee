/**
 * End to end over real sockets: a consent that replicates in parts. Right after admin consent
 * Entra may issue app-only tokens that lack some of the new roles, or lack `oid` (FACTS.md §3;
 * microsoftgraph/microsoft-graph-docs#10907, #4765); the Entra simulator does so on request
 * (`PUT /_sim/tenants/{id}/role-replication-delay`). Within REPLICATION_WINDOW_SECONDS (src/consent/proof.ts)
 * that is replication: the tenant stays `pending_verification` and is proven later by the background check, not
 * marked `degraded` or failed; after the window a role still missing is real. Onboardings without an appliance,
 * so no confirmation step. Each background check here looks at this file's tenant only (other files share the
 * tables and run their own checks).
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { reverifyPendingConsents } from '../../src/consent/verification.js';
import { REPLICATION_WINDOW_SECONDS } from '../../src/consent/proof.js';
import type { TenantStore } from '../../src/tenants/tenant-store.js';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker, type TestBroker } from './broker-host.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const EXO = 'https://outlook.office365.com/.default';
let broker: TestBroker;
let staff: string;

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const tenantView = (id: string) => api<Record<string, unknown>>(`/api/tenants/${id}`);
const onboardingView = (id: string) => api<Record<string, unknown>>(`/api/onboardings/${id}`);

/** A customer tenant with a Global Administrator whose consents replicate as `replication` says. */
async function customer(name: string, replication: Record<string, unknown>) {
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const id = await newTenant(name, [`${slug}.example`]);
  await control('POST', `/_sim/tenants/${id}/users`, {
    userPrincipalName: `admin@${slug}.example`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  await control('PUT', `/_sim/tenants/${id}/role-replication-delay`, replication);
  return { id, admin: `admin@${slug}.example` };
}

/** The admin consents to an onboarding without an appliance, through the broker's pages and Microsoft's. */
async function consent(c: { admin: string }, customerRef: string): Promise<{ id: string; result: Visit }> {
  const { status, body: o } = await api<{ id: string; consentUrl: string }>('/api/onboardings', {
    method: 'POST',
    body: JSON.stringify({ customerRef, profiles: ['exchange-imap'] }),
  });
  expect(status).toBe(201);
  const browser = new ConsentBrowser(broker.url);
  expect((await browser.open(o.consentUrl)).status).toBe(200);
  const consentPage = await browser.open(`${o.consentUrl}/go`);
  expect(consentPage.status).toBe(200);
  const result = await browser.submit(consentPage, { user: c.admin, decision: 'approve' });
  return { id: o.id, result };
}

/** The background check of pending consents (functions/timers.ts) at `at`, for one tenant only. */
async function reverify(tenantId: string, at: Date): Promise<number> {
  const b = await createBroker(loadConfig(sandboxSettings()));
  const tenants = new Proxy(b.tenants, {
    get(target, prop) {
      if (prop === 'list')
        return async (query: Parameters<TenantStore['list']>[0]) => {
          const page = await target.list(query);
          return { ...page, items: page.items.filter((t) => t.tenantId === tenantId) };
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return reverifyPendingConsents({ ...b, tenants, now: () => at });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a consent whose roles replicate after its service principal', () => {
  it('keeps the tenant pending_verification (not degraded) while roles replicate, and proves it active later', async () => {
    const c = await customer('Roles Trickle In', { delayMs: 2_000 });
    const o = await consent(c, 'TRICKLE-1');
    expect(o.result.status, o.result.body.slice(0, 500)).toBe(200);
    expect(o.result.body).not.toMatch(/wait 10 minutes|try again/i);
    expect((await tenantView(c.id)).body).toMatchObject({
      status: 'pending_verification',
      verification: { attempts: 0 },
      lastError: null,
    });
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'pending',
      progress: 'pending_verification',
      tenantId: c.id,
    });

    // Checked again before the roles arrive: still replication, re-proven later with backoff.
    expect(await reverify(c.id, new Date(Date.now() + 60_000))).toBe(1);
    const waiting = (await tenantView(c.id)).body as {
      status: string;
      verification: { attempts: number; nextCheckAt: string };
    };
    expect(waiting).toMatchObject({ status: 'pending_verification', verification: { attempts: 1 } });
    expect(Date.parse(waiting.verification.nextCheckAt)).toBeGreaterThanOrEqual(Date.now() + 60_000 + 15_000);

    await sleep(2_100);
    expect(await reverify(c.id, new Date(Date.now() + 10 * 60_000))).toBe(1);
    const tenant = (await tenantView(c.id)).body;
    expect(tenant).toMatchObject({ status: 'active', verification: null, missingRoles: {} });
    expect((tenant.grantedRoles as Record<string, string[]>)[EXO]).toContain('IMAP.AccessAsApp');
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'consented',
      progress: null,
      missingRoles: {},
    });
  });

  it('keeps the tenant pending_verification, not failed, while Entra issues tokens without oid', async () => {
    const c = await customer('No Oid Yet', { delayMs: 2_000, withoutOid: true });
    const o = await consent(c, 'NOOID-1');
    expect(o.result.status, o.result.body.slice(0, 500)).toBe(200);
    expect((await tenantView(c.id)).body).toMatchObject({
      status: 'pending_verification',
      lastError: null,
    });
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'pending', error: null });

    await sleep(2_100);
    expect(await reverify(c.id, new Date(Date.now() + 60_000))).toBe(1);
    expect((await tenantView(c.id)).body).toMatchObject({
      status: 'active',
      servicePrincipalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'consented' });
  });

  it('takes a role still missing after the replication window for a real gap: degraded', async () => {
    const c = await customer('Never Replicated', { delayMs: 86_400_000, roles: ['IMAP.AccessAsApp'] });
    const o = await consent(c, 'NEVER-1');
    expect(o.result.status).toBe(200);
    expect((await tenantView(c.id)).body).toMatchObject({ status: 'pending_verification' });

    const afterWindow = new Date(Date.now() + (REPLICATION_WINDOW_SECONDS + 60) * 1000);
    expect(await reverify(c.id, afterWindow)).toBe(1);
    expect((await tenantView(c.id)).body).toMatchObject({
      status: 'degraded',
      verification: null,
      missingRoles: { 'exchange-imap': ['IMAP.AccessAsApp'] },
    });
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'consented',
      missingRoles: { 'exchange-imap': ['IMAP.AccessAsApp'] },
    });
  });
});
