/**
 * Credentials ending within 30 days are flagged: the home app's in health and the audit log, a
 * tenant's own app credential on the tenant and in the audit log. The timer's clock is injected.
 * @module
 */
import { bundleCredentials } from '../../src/credentials/bundle-apps.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { flagExpiringCredentials } from '../../src/credentials/expiry.js';
import { newTenantRecord, type TenantRecord } from '../../src/tenants/tenant-store.js';
import { sandboxSettings } from '../integration/broker-host.js';

const DAY = 86_400_000;

function tenant(expiresOn: Date): TenantRecord {
  return {
    ...newTenantRecord(randomUUID()),
    status: 'active',
    displayName: 'Own App',
    customerRefs: ['X'],
    profiles: ['exchange-imap'],
    appCredential: { clientId: randomUUID(), expiresOn: expiresOn.toISOString() },
  };
}

describe('credential expiry', () => {
  it('flags tenant app credentials ending within 30 days (degraded) or ended (error), once, with an audit entry', async () => {
    const b = await createBroker(loadConfig(sandboxSettings()));
    const now = new Date();
    const soon = tenant(new Date(now.getTime() + 10 * DAY));
    const gone = tenant(new Date(now.getTime() - DAY));
    const fine = tenant(new Date(now.getTime() + 90 * DAY));
    for (const t of [soon, gone, fine]) await b.tenants.save(t);
    const deps = { ...b, homeAppCredential: b.config.homeAppCredential, now: () => now };
    const result = await flagExpiringCredentials(deps);
    expect(result.tenants).toEqual(expect.arrayContaining([soon.tenantId, gone.tenantId]));
    expect(result.tenants).not.toContain(fine.tenantId);
    expect(await b.tenants.get(soon.tenantId)).toMatchObject({
      status: 'degraded',
      lastError: { code: 'credential_expiring' },
    });
    expect(await b.tenants.get(gone.tenantId)).toMatchObject({
      status: 'error',
      lastError: { code: 'credential_expired' },
    });
    expect(await b.tenants.get(fine.tenantId)).toMatchObject({ status: 'active', lastError: null });
    const audit = await b.audit.list({ tenantId: soon.tenantId, top: 10 });
    expect(audit.items.map((e) => e.action)).toEqual(['credential.expiring']);
    // A second run does not flag it again.
    await flagExpiringCredentials(deps);
    expect((await b.audit.list({ tenantId: soon.tenantId, top: 10 })).items).toHaveLength(1);
  });

  it('shows a home app credential that ends within 30 days in health, and audits it', async () => {
    const seed = await createBroker(loadConfig(sandboxSettings()));
    const name = `home-expiring-${Date.now()}`;
    await seed.secrets.set(name, inject('sandbox').homeApp.clientSecret, {
      expiresOn: new Date(Date.now() + 10 * DAY),
    });
    const { HOME_APP_CLIENT_SECRET: _, ...settings } = sandboxSettings();
    const b = await createBroker(loadConfig({ ...settings, HOME_APP_CREDENTIAL_NAME: name }));
    const health = await b.health();
    expect(health.status).toBe('degraded');
    expect(health.dependencies.homeAppCredential).toMatchObject({
      status: 'down',
      reason: 'CredentialExpiringSoon',
    });
    const since = new Date();
    expect(
      (
        await flagExpiringCredentials({
          ...b,
          homeAppCredential: b.config.homeAppCredential,
          now: () => new Date(),
        })
      ).homeApp,
    ).toBe(true);
    const audit = await b.audit.list({ tenantId: null, since, top: 1000 });
    expect(audit.items.find((e) => e.action === 'credential.expiring')?.details).toMatchObject({
      credential: 'home-app',
      daysLeft: 9,
    });
  });

  it("watches each bundle app's credential as the home app's: health names the bundle, the timer audits it", async () => {
    const seed = await createBroker(loadConfig(sandboxSettings()));
    const name = `bundle-calendar-expiring-${Date.now()}`;
    await seed.secrets.set(name, 'calendar-secret', { expiresOn: new Date(Date.now() + 10 * DAY) });
    const b = await createBroker(
      loadConfig({
        ...sandboxSettings(),
        BROKER_PROFILES_FILE: 'docs/examples/bundles.profiles.json',
        BUNDLE_CALENDAR_CLIENT_ID: randomUUID(),
        BUNDLE_CALENDAR_CREDENTIAL_NAME: name,
        BUNDLE_EWS_CLIENT_ID: randomUUID(),
        BUNDLE_EWS_CLIENT_SECRET: 'ews-secret',
      }),
    );
    const health = await b.health();
    expect(health.dependencies.bundleAppCredentials).toMatchObject({
      status: 'down',
      reason: 'CredentialExpiringSoon',
    });
    expect(health.dependencies.homeAppCredential).toMatchObject({ status: 'up' });
    const since = new Date();
    const flagged = await flagExpiringCredentials({
      ...b,
      homeAppCredential: b.config.homeAppCredential,
      bundleCredentials: bundleCredentials(b.apps),
      now: () => new Date(),
    });
    expect(flagged).toMatchObject({ homeApp: false, bundles: ['calendar'] });
    const audit = await b.audit.list({ tenantId: null, since, top: 1000 });
    expect(audit.items.find((e) => e.action === 'credential.expiring')?.details).toMatchObject({
      credential: 'bundle-app',
      bundle: 'calendar',
      daysLeft: 9,
    });
  });
});
