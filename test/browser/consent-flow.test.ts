/**
 * The consent flow as a customer's admin meets it, in headless Chromium: the broker's landing page, the
 * simulated Microsoft consent page, and the broker's result page, with screenshots kept as artifacts
 * (test-artifacts/screenshots/flow-*.png). The browser trusts the sandbox CA for the simulator's origin only.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../local/free-port.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { chromiumMissing, launchBrowser, saveScreenshot, type TestBrowser } from './browser.js';

const missing = chromiumMissing();
if (missing) console.warn(`test/browser/consent-flow.test.ts: ${missing}`);

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
let broker: TestBroker;
let chromium: TestBrowser;
let publicUrl: string;

beforeAll(async () => {
  if (missing) return;
  // A home app of its own whose redirect URIs name this broker's real port, so the browser needs no rewriting.
  const port = await freePort();
  publicUrl = `http://localhost:${port}`;
  const sandbox = inject('sandbox');
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: sandbox.vendorTenantId,
    displayName: 'Northwind PBX Connector',
    multitenant: true,
    redirectUris: [`${publicUrl}/consent/callback`, `${publicUrl}/consent/signin`],
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp', 'SMTP.SendAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
    },
    groupMembershipClaims: 'DirectoryRole',
    idTokenOptionalClaims: ['acct'],
  });
  const secret = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  broker = await startTestBroker(
    {
      BROKER_PUBLIC_URL: publicUrl,
      HOME_APP_CLIENT_ID: app.appId,
      HOME_APP_CLIENT_SECRET: secret.value,
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

describe.skipIf(missing !== undefined)('consent flow in a real browser', () => {
  it('landing page → Microsoft consent → result page, with the tenant recorded as active', async () => {
    const slug = 'fabrikamtelecom';
    const tenantId = await newTenant('Fabrikam Telecom', [`${slug}.example`]);
    await control('POST', `/_sim/tenants/${tenantId}/users`, {
      userPrincipalName: `admin@${slug}.example`,
      directoryRoles: [GLOBAL_ADMIN],
    });
    const staff = await broker.staffToken();
    const created = await fetch(`${broker.url}/api/onboardings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerRef: 'FAB-7731', profiles: ['exchange-imap', 'exchange-smtp'] }),
    });
    const { consentUrl } = (await created.json()) as { consentUrl: string };
    expect(consentUrl.startsWith(publicUrl)).toBe(true);

    const { page, cspViolations, errors } = await chromium.newPage();
    const notFound: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(new URL(r.url()).pathname);
    });
    await page.goto(consentUrl);
    expect(await page.textContent('main')).toContain('FAB-7731');
    await saveScreenshot(page, 'flow-1-landing');

    await page.getByRole('link', { name: /continue to microsoft/i }).click();
    await page.waitForURL(/adminconsent/);
    expect(await page.textContent('h1')).toContain('Permissions requested');
    await saveScreenshot(page, 'flow-2-microsoft-consent');

    await page.fill('input[name="user"]', `admin@${slug}.example`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\/consent\/signin/);
    await saveScreenshot(page, 'flow-3-result');
    const result = (await page.textContent('main')) ?? '';
    expect(result).toContain('Fabrikam Telecom');
    expect(result).not.toMatch(/wait 10 minutes/i);
    expect(await cspViolations()).toEqual([]);
    // Chromium asks every origin for /favicon.ico; neither the broker nor the simulator has one.
    expect(notFound.filter((p) => p !== '/favicon.ico')).toEqual([]);
    expect(errors.filter((e) => !e.includes('status of 404'))).toEqual([]);

    const tenant = await fetch(`${broker.url}/api/tenants/${tenantId}`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(await tenant.json()).toMatchObject({
      status: 'active',
      customerRefs: ['FAB-7731'],
      missingRoles: {},
    });
  });
});
