/**
 * Revocation detection against the sandbox: consent removed in the tenant → `revoked` and the
 * appliance refused with that cause; consent granted again → `active`. The timer's spreading is checked too.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBroker, type Broker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { recheckConsents, recheckSlot, RECHECK_PERIOD_MS } from '../../src/tenants/consent-watch.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { newTenantRecord } from '../../src/tenants/tenant-store.js';

let broker: TestBroker;
let staff: string;
let tenant: ConsentedTenant;
let pbx: { clientId: string; clientSecret: string };
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  tenant = await consentedTenant(broker.url, staff, 'Watched Ltd', ['exchange-imap']);
  const res = await fetch(`${broker.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      customerRef: 'WATCH-1',
      tenantId: tenant.tenantId,
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    }),
  });
  pbx = (await res.json()) as typeof pbx;
});
afterAll(async () => {
  await broker?.close();
});

const token = () =>
  fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${pbx.clientId}:${pbx.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
  });
const status = async () =>
  (
    (await (
      await fetch(`${broker.url}/api/tenants/${tenant.tenantId}`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json()) as { status: string }
  ).status;

describe('revocation detection', () => {
  it('marks a tenant revoked when its consent is removed, refuses its appliances with that cause, and restores it', async () => {
    expect((await token()).status).toBe(200);
    await control(
      'DELETE',
      `/_sim/tenants/${tenant.tenantId}/consents/${inject('sandbox').homeApp.clientId}`,
    );
    const b = await broker.instance();
    // A window of a whole period covers every tenant's slot.
    await recheckConsents(b, new Date(Date.now() - RECHECK_PERIOD_MS));
    expect(await status()).toBe('revoked');
    const refused = await token();
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error_description: string }).error_description).toMatch(/revoked/);

    await control('POST', `/_sim/tenants/${tenant.tenantId}/consents`, {
      appId: inject('sandbox').homeApp.clientId,
    });
    await recheckConsents(b, new Date(Date.now() - RECHECK_PERIOD_MS));
    expect(await status()).toBe('active');
    expect((await token()).status).toBe(200);
    const audit = (await (
      await fetch(`${broker.url}/api/audit?tenantId=${tenant.tenantId}&top=1000`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json()) as { items: { action: string }[] };
    expect(audit.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['consent.revoked', 'consent.restored']),
    );
  });

  it('spreads tenants over the period: every tenant has one slot, and 5-minute windows take about 1/72 of them', () => {
    const slots = Array.from({ length: 7_200 }, (_, i) => recheckSlot(`tenant-${i}`));
    expect(slots.every((s) => s >= 0 && s < RECHECK_PERIOD_MS)).toBe(true);
    const window = 5 * 60_000;
    const counts = Array.from(
      { length: RECHECK_PERIOD_MS / window },
      (_, w) => slots.filter((s) => s >= w * window && s < (w + 1) * window).length,
    );
    expect(Math.max(...counts)).toBeLessThan(250); // 100 expected per window
    expect(counts.reduce((a, b) => a + b, 0)).toBe(7_200);
  });

  it('re-proves a tenant in error once the cause is gone: error with a refused credential, then active again', async () => {
    // Only this tenant's slot: a window of 1 ms ending just after it, so that other test files' tenants in
    // the shared tables are left alone.
    const slot = recheckSlot(tenant.tenantId);
    const at = Math.ceil(Date.now() / RECHECK_PERIOD_MS) * RECHECK_PERIOD_MS + slot + 1;
    const window = (b: Broker) => recheckConsents({ ...b, now: () => new Date(at) }, new Date(at - 1));
    // A second broker whose home app secret Entra does not accept (AADSTS7000215), as after a bad rotation.
    const wrong = await createBroker(
      loadConfig({ ...process.env, HOME_APP_CLIENT_SECRET: 'not-the-home-app-secret' }),
    );
    expect(await window(wrong)).toBe(1);
    const inError = (await (
      await fetch(`${broker.url}/api/tenants/${tenant.tenantId}`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json()) as { status: string; lastError: { code: string } | null };
    expect(inError).toMatchObject({ status: 'error', lastError: { code: 'AADSTS7000215' } });
    // The same refusal again changes nothing and audits nothing new.
    const auditActions = async () =>
      (
        (await (
          await fetch(`${broker.url}/api/audit?tenantId=${tenant.tenantId}&top=1000`, {
            headers: { authorization: `Bearer ${staff}` },
          })
        ).json()) as { items: { action: string }[] }
      ).items.map((e) => e.action);
    const before = await auditActions();
    expect(await window(wrong)).toBe(1);
    expect(await auditActions()).toEqual(before);
    await wrong.usage.stop();

    // The broker with the right credential re-proves it at its slot: active again, audited as restored.
    expect(await window(await broker.instance())).toBe(1);
    expect(await status()).toBe('active');
    expect((await token()).status).toBe(200);
    const after = await auditActions();
    expect(after.filter((a) => a === 'consent.restored').length).toBe(
      before.filter((a) => a === 'consent.restored').length + 1,
    );
  });

  it('leaves a tenant in error whose consent was never proven (failed verification) to a new consent', async () => {
    const b = await broker.instance();
    const tenantId = randomUUID();
    await b.tenants.save({
      ...newTenantRecord(tenantId),
      status: 'error',
      displayName: 'Never Proven Ltd',
      customerRefs: ['NEVER-1'],
      consentedAt: new Date().toISOString(),
      lastError: {
        code: 'verification_timeout',
        message: 'The consent could not be confirmed with Microsoft Entra ID within 24 hours.',
        at: new Date().toISOString(),
        remediation: 'An administrator must consent again.',
      },
      profiles: ['exchange-imap'],
    });
    const slot = recheckSlot(tenantId);
    const at = Math.ceil(Date.now() / RECHECK_PERIOD_MS) * RECHECK_PERIOD_MS + slot + 1;
    expect(await recheckConsents({ ...b, now: () => new Date(at) }, new Date(at - 1))).toBe(0);
    expect(await b.tenants.get(tenantId)).toMatchObject({
      status: 'error',
      lastError: { code: 'verification_timeout' },
    });
  });
});
