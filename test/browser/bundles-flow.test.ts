/**
 * A deployment of three bundles (docs/examples/bundles.profiles.json) in headless Chromium, as a customer's admin
 * meets it: a landing page that lists each app's permissions ("App 1 of 2 …"), Microsoft's consent page of the
 * mail app, then that of the calendar app at the tenant's own endpoint, then the broker's result page; and an
 * IMAP-only customer who meets one app alone. Screenshots: test-artifacts/screenshots/bundles-*.png. The
 * single-bundle deployment's flow is test/browser/consent-flow.test.ts.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { simulatedPermissions } from '../../local/bundle-apps.js';
import { freePort } from '../../local/free-port.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { homeAppRedirectUris } from '../../src/profiles/registration.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { chromiumMissing, launchBrowser, saveScreenshot, type TestBrowser } from './browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`test/browser/bundles-flow.test.ts: ${missing}`);

const EXAMPLE = 'docs/examples/bundles.profiles.json';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const EXCHANGE = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
let broker: TestBroker;
let chromium: TestBrowser;
let publicUrl: string;
const apps: Record<string, { appId: string; displayName: string }> = {};

beforeAll(async () => {
  if (missing) return;
  const port = await freePort();
  publicUrl = `http://localhost:${port}`;
  const sandbox = inject('sandbox');
  const profiles = await loadProfiles(EXAMPLE);
  const secrets: Record<string, string> = {};
  // Each bundle's app as infra/ registers it: its bundle's permissions, this broker's redirect URIs.
  for (const bundle of profiles.bundles) {
    const displayName = `Northwind ${bundle.title}`;
    const app = await control<{ appId: string }>('POST', '/_sim/apps', {
      homeTenantId: sandbox.vendorTenantId,
      displayName,
      multitenant: true,
      redirectUris: homeAppRedirectUris(publicUrl),
      groupMembershipClaims: 'DirectoryRole',
      idTokenOptionalClaims: ['acct'],
      ...simulatedPermissions(profiles, bundle),
    });
    apps[bundle.name] = { appId: app.appId, displayName };
    secrets[bundle.name] = (
      await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {})
    ).value;
  }
  broker = await startTestBroker(
    {
      BROKER_PUBLIC_URL: publicUrl,
      BROKER_PROFILES_FILE: EXAMPLE,
      HOME_APP_CLIENT_ID: apps.mail!.appId,
      HOME_APP_CLIENT_SECRET: secrets.mail!,
      BUNDLE_CALENDAR_CLIENT_ID: apps.calendar!.appId,
      BUNDLE_CALENDAR_CLIENT_SECRET: secrets.calendar!,
      BUNDLE_EWS_CLIENT_ID: apps.ews!.appId,
      BUNDLE_EWS_CLIENT_SECRET: secrets.ews!,
      // Staff tokens of the sandbox are issued for the sandbox home app's API.
      SUPPORT_API_AUDIENCE: `api://${sandbox.homeApp.clientId}`,
      BROKER_VENDOR_NAME: 'Northwind Telephony',
    },
    port,
  );
  chromium = await launchBrowser({
    trust: { caPath: inject('caBundlePath'), origins: [inject('entraUrl')] },
  });
});

afterAll(async () => {
  await chromium?.close();
  await broker?.close();
});

/** A customer tenant with a Global Administrator, and a consent link for `profiles`. */
async function onboarding(slug: string, name: string, profiles: string[]) {
  const tenantId = await newTenant(name, [`${slug}.example`]);
  const admin = `admin@${slug}.example`;
  await control('POST', `/_sim/tenants/${tenantId}/users`, {
    userPrincipalName: admin,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const staff = await broker.staffToken();
  const created = await fetch(`${broker.url}/api/onboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef: `REF-${slug}`, profiles }),
  });
  expect(created.status).toBe(201);
  const { consentUrl } = (await created.json()) as { consentUrl: string };
  const tenant = async () =>
    (await (
      await fetch(`${broker.url}/api/tenants/${tenantId}`, { headers: { authorization: `Bearer ${staff}` } })
    ).json()) as { status: string; grantedRoles: Record<string, string[]>; missingRoles: object };
  return { tenantId, admin, consentUrl, tenant };
}

describe.skipIf(missing !== undefined)('three bundles in a real browser', () => {
  it('takes an IMAP and calendar customer through the mail app, then the calendar app, to one result page', async () => {
    const o = await onboarding('contosocalls', 'Contoso Calls', ['exchange-imap', 'graph-calendar']);
    const { page, cspViolations, errors } = await chromium.newPage();
    await page.goto(o.consentUrl);
    const landing = (await page.textContent('main')) ?? '';
    expect(landing).toContain('App 1 of 2: Mail over IMAP, POP and SMTP');
    expect(landing).toContain('App 2 of 2: Mail, calendars, contacts and presence through Microsoft Graph');
    expect(landing).not.toContain('full_access_as_app');
    await saveScreenshot(page, 'bundles-1-landing');

    await page.getByRole('link', { name: /continue to microsoft/i }).click();
    await page.waitForURL(/\/organizations\/v2\.0\/adminconsent/);
    expect(await page.textContent('#app-name')).toBe(apps.mail!.displayName);
    const mailPermissions = (await page.textContent('#permissions')) ?? '';
    expect(mailPermissions).toContain('IMAP.AccessAsApp');
    expect(mailPermissions).not.toContain('Calendars.ReadWrite');
    await saveScreenshot(page, 'bundles-2-microsoft-consent-mail');
    await page.fill('input[name="user"]', o.admin);
    await page.getByRole('button', { name: 'Approve' }).click();

    // The second app, asked at the tenant the first consent came back from.
    await page.waitForURL(new RegExp(`/${o.tenantId}/v2\\.0/adminconsent`));
    expect(await page.textContent('#app-name')).toBe(apps.calendar!.displayName);
    expect(await page.textContent('#permissions')).toContain('Calendars.ReadWrite');
    await saveScreenshot(page, 'bundles-3-microsoft-consent-calendar');
    await page.check(`input[name="user"][value="${o.admin}"]`);
    await page.getByRole('button', { name: 'Approve' }).click();

    await page.waitForURL(/\/consent\/signin/);
    await saveScreenshot(page, 'bundles-4-result');
    const result = (await page.textContent('main')) ?? '';
    expect(result).toContain('Contoso Calls');
    expect(await cspViolations()).toEqual([]);
    expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);

    const tenant = await o.tenant();
    expect(tenant.status).toBe('active');
    expect(tenant.missingRoles).toEqual({});
    expect(tenant.grantedRoles[EXCHANGE]).toEqual(['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp']);
    expect(tenant.grantedRoles[GRAPH]).toContain('Calendars.ReadWrite');
  });

  it('takes an IMAP-only customer through the mail app alone', async () => {
    const o = await onboarding('litwareimap', 'Litware IMAP', ['exchange-imap']);
    const { page, cspViolations } = await chromium.newPage();
    await page.goto(o.consentUrl);
    const landing = (await page.textContent('main')) ?? '';
    expect(landing).not.toContain('App 1 of');
    expect(landing).not.toContain('Calendars.ReadWrite');
    await saveScreenshot(page, 'bundles-5-landing-imap-only');
    await page.getByRole('link', { name: /continue to microsoft/i }).click();
    await page.waitForURL(/adminconsent/);
    expect(await page.textContent('#app-name')).toBe(apps.mail!.displayName);
    await page.fill('input[name="user"]', o.admin);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\/consent\/signin/);
    expect(await page.textContent('main')).toContain('Litware IMAP');
    expect(await cspViolations()).toEqual([]);
    const tenant = await o.tenant();
    expect(tenant.status).toBe('active');
    expect(tenant.grantedRoles).toEqual({
      [EXCHANGE]: ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp'],
      [GRAPH]: ['Organization.Read.All'],
    });
  });

  it('lays the landing page of two apps out at 320 CSS px (200 percent zoom) with one h1 and headings per app', async () => {
    const o = await onboarding('fourthcoffee', 'Fourth Coffee', ['exchange-imap', 'graph-calendar']);
    const { page, cspViolations } = await chromium.newPage({ viewport: { width: 320, height: 640 } });
    await page.goto(o.consentUrl);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.getByRole('heading', { name: /^App \d of 2:/ }).count()).toBe(2);
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow, 'horizontal scrolling at 320 px').toBeLessThanOrEqual(0);
    expect(await cspViolations()).toEqual([]);
    await saveScreenshot(page, 'bundles-6-landing-320px');
  });
});
