/**
 * The support console in headless Chromium (issue 22): a staff member signs in at the (simulated) Entra ID of
 * the vendor tenant, sees the overview, searches tenants, opens one and signs out; each page has no CSP
 * violation, one h1, labelled controls, text contrast of at least 4.5:1, and reflows at 320 CSS px.
 * Screenshots: test-artifacts/screenshots/console-*.png. The browser trusts the sandbox CA for the simulator's
 * origin only.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../local/free-port.js';
import { homeAppRedirectUris } from '../../src/profiles/registration.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import {
  chromiumMissing,
  computedColours,
  contrastRatio,
  launchBrowser,
  parseCssColor,
  saveScreenshot,
  type TestBrowser,
} from './browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`test/browser/console.test.ts: ${missing}`);

let broker: TestBroker;
let chromium: TestBrowser;
let publicUrl: string;
let customer: ConsentedTenant;
const staff = `console-admin-${Date.now()}@vendor.example`;

beforeAll(async () => {
  if (missing) return;
  // A home app of its own whose redirect URIs name this broker's real port, with the console roles, and a staff
  // member holding Broker.Admin on it.
  const port = await freePort();
  publicUrl = `http://localhost:${port}`;
  const sandbox = inject('sandbox');
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: sandbox.vendorTenantId,
    displayName: 'Northwind PBX Connector (console)',
    multitenant: true,
    redirectUris: homeAppRedirectUris(publicUrl),
    appRoles: ['Broker.Read', 'Broker.Admin'],
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp', 'SMTP.SendAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
    },
    groupMembershipClaims: 'DirectoryRole',
    idTokenOptionalClaims: ['acct'],
  });
  const secret = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  await control('POST', `/_sim/tenants/${sandbox.vendorTenantId}/users`, {
    userPrincipalName: staff,
    displayName: 'Dana Support',
    appRoles: { [app.appId]: ['Broker.Admin'] },
  });
  broker = await startTestBroker(
    {
      BROKER_PUBLIC_URL: publicUrl,
      HOME_APP_CLIENT_ID: app.appId,
      HOME_APP_CLIENT_SECRET: secret.value,
      SUPPORT_API_AUDIENCE: `api://${sandbox.homeApp.clientId}`,
      BROKER_VENDOR_NAME: 'Northwind Telephony',
    },
    port,
  );
  customer = await consentedTenant(broker.url, await broker.staffToken(), 'Tailspin Toys', [
    'exchange-imap',
    'exchange-smtp',
  ]);
  chromium = await launchBrowser({
    trust: { caPath: inject('caBundlePath'), origins: [inject('entraUrl')] },
  });
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await broker?.close();
});

describe.skipIf(missing !== undefined)('support console in a real browser', () => {
  it('sign-in at Entra → overview → tenant search → tenant → sign-out, each page accessible', async () => {
    const { page, cspViolations, errors } = await chromium.newPage({
      viewport: { width: 1280, height: 900 },
    });
    await page.goto(`${publicUrl}/console`);
    await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
    await saveScreenshot(page, 'console-1-entra-sign-in');
    await page.check(`input[name="account"][value="${staff}"]`);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(`${publicUrl}/console`);
    expect(await page.textContent('h1')).toBe('Support console');
    expect(await page.textContent('nav')).toContain('Dana Support (Broker.Admin)');
    expect(await page.textContent('main')).toContain('Tenants by status');
    await saveScreenshot(page, 'console-2-overview');

    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await page.getByLabel('Customer reference, domain or tenant id').fill('REF-tailspintoys');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/console\/tenants\?q=REF-tailspintoys/);
    await saveScreenshot(page, 'console-3-tenants');
    await page.getByRole('link', { name: 'Tailspin Toys' }).click();
    await page.waitForURL(`${publicUrl}/console/tenants/${customer.tenantId}`);
    expect(await page.textContent('main')).toContain('IMAP.AccessAsApp');
    await saveScreenshot(page, 'console-4-tenant');

    // Actions: a check with its remediations and copy buttons (the console's script, from this origin); an
    // appliance whose secret is shown once.
    await page.getByRole('button', { name: 'Run check' }).click();
    expect(await page.textContent('h1')).toBe('Check of Tailspin Toys');
    expect(await page.locator('li.check').count()).toBeGreaterThan(3);
    await saveScreenshot(page, 'console-7-check');
    await page.goBack();
    await page.getByRole('button', { name: 'Register appliance' }).click();
    expect(await page.textContent('h1')).toBe('Appliance registered');
    expect(await page.getByRole('button', { name: 'Copy the secret' }).isVisible()).toBe(true);
    await saveScreenshot(page, 'console-8-secret-once');
    await page.goto(`${publicUrl}/console/tenants/${customer.tenantId}`);

    // Webhooks: an endpoint and its delivery log.
    const hook = await fetch(`${broker.url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await broker.staffToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/unreachable', events: ['appliance.revoked'] }),
    });
    expect(hook.status).toBe(201);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    expect(await page.textContent('main')).toContain('http://127.0.0.1:9/unreachable');
    await saveScreenshot(page, 'console-9-webhooks');
    await page.goto(`${publicUrl}/console/tenants/${customer.tenantId}`);

    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.textContent('h1')).toBe('Signed out');
    await saveScreenshot(page, 'console-5-signed-out');
    await page.goto(`${publicUrl}/console/tenants`);
    await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);

    expect(await cspViolations()).toEqual([]);
    expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
  });

  it('has one h1, contrast of 4.5:1 and no horizontal scrolling at 320 px on each console page', async () => {
    const { page, cspViolations } = await chromium.newPage({ viewport: { width: 320, height: 640 } });
    await page.goto(`${publicUrl}/console`);
    await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
    await page.check(`input[name="account"][value="${staff}"]`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${publicUrl}/console`);
    for (const path of ['/console', '/console/tenants', `/console/tenants/${customer.tenantId}`]) {
      await page.goto(`${publicUrl}${path}`);
      expect(await page.locator('h1').count(), path).toBe(1);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      // What sticks out, if anything: named in the failure.
      const widest = await page.evaluate<string>(
        `[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth).map((e) => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60)).slice(-3).join(' | ')`,
      );
      expect(overflow, `${path}: horizontal scrolling at 320 px (${widest})`).toBeLessThanOrEqual(0);
      for (const selector of ['h1', 'nav a', 'nav .note', 'main p', 'th']) {
        if ((await page.locator(selector).count()) === 0) continue;
        const c = await computedColours(page, selector);
        const ratio = contrastRatio(parseCssColor(c.color), parseCssColor(c.background));
        expect(ratio, `${path} ${selector}: ${c.color} on ${c.background}`).toBeGreaterThanOrEqual(4.5);
      }
    }
    await saveScreenshot(page, 'console-6-tenant-320px');
    expect(await cspViolations()).toEqual([]);
  });

  it('creates a consent link, rotates and revokes an appliance, offboards after confirming, and shows the refusals', async () => {
    const { page, cspViolations } = await chromium.newPage({ viewport: { width: 1024, height: 900 } });
    await page.goto(`${publicUrl}/console`);
    await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
    await page.check(`input[name="account"][value="${staff}"]`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${publicUrl}/console`);
    const other = await consentedTenant(broker.url, await broker.staffToken(), 'Wingtip Toys', [
      'exchange-imap',
    ]);
    const tenantPage = `${publicUrl}/console/tenants/${other.tenantId}`;

    await page.goto(tenantPage);
    await page.getByRole('button', { name: 'Create consent link' }).click();
    expect(await page.textContent('#link')).toMatch(new RegExp(`^${publicUrl}/connect/`));
    await saveScreenshot(page, 'console-10-consent-link');

    await page.goto(tenantPage);
    await page.getByRole('button', { name: 'Register appliance' }).click();
    const first = await page.textContent('#secret');
    await page.goto(tenantPage);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    expect(await page.textContent('h1')).toBe('New appliance secret');
    expect(await page.textContent('#secret')).not.toBe(first);
    await page.goto(tenantPage);
    await page.getByRole('button', { name: 'Revoke' }).click();
    expect(await page.textContent('main')).toContain('is revoked');

    await page.goto(tenantPage);
    await page.getByLabel(/Type the tenant id/).fill('not it');
    await page.getByRole('button', { name: /^Offboard/ }).click();
    expect(await page.textContent('main')).toContain('type its tenant id');
    await page.goto(tenantPage);
    await page.getByLabel(/Type the tenant id/).fill(other.tenantId);
    await page.getByRole('button', { name: /^Offboard/ }).click();
    expect(await page.textContent('h1')).toBe('Tenant offboarded');
    await saveScreenshot(page, 'console-11-offboarded');
    expect(await cspViolations()).toEqual([]);

    // A vendor account without a console role: a clear page, no session.
    const norole = `console-norole-${Date.now()}@vendor.example`;
    await control('POST', `/_sim/tenants/${inject('sandbox').vendorTenantId}/users`, {
      userPrincipalName: norole,
    });
    const fresh = await chromium.newPage({ viewport: { width: 1024, height: 700 } });
    await fresh.page.goto(`${publicUrl}/console`);
    await fresh.page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
    await fresh.page.check(`input[name="account"][value="${norole}"]`);
    await fresh.page.getByRole('button', { name: 'Sign in' }).click();
    await fresh.page.waitForURL(/\/console\/callback/);
    expect(await fresh.page.textContent('h1')).toBe('No console role');
    await saveScreenshot(fresh.page, 'console-12-no-role');
  });
});
