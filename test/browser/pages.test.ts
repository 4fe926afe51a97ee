/**
 * The consent pages in real Chromium: served over a socket exactly as `pageReply` and `stylesheetReply` build
 * them, then checked for CSP violations, keyboard reachability and a visible focus, text contrast (WCAG 2.2
 * AA 1.4.3, 4.5:1), reflow at 320 CSS px (1.4.10) and no Referer on the way to /go. Screenshots go to
 * test-artifacts/screenshots/. Also checks that the harness trusts the sandbox CA and nothing else.
 * Skipped, saying why, when /usr/bin/chromium is absent (.ci/run installs it).
 * @module
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  confirmPage,
  consentResultPage,
  ERROR_REASONS,
  errorPageFor,
  html,
  landingPage,
  pageReply,
  stylesheetReply,
  type ConsentResultInput,
  type ErrorReason,
  type Page,
} from '../../src/http/pages/index.js';
import type { HttpReply } from '../../src/http/types.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import {
  grantedForOnboarding,
  homeAppRegistration,
  registrationForOnboarding,
} from '../../src/profiles/registration.js';
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
if (missing) console.warn(`test/browser/pages.test.ts: ${missing}`);

const profiles = await loadProfiles(undefined);
const registration = homeAppRegistration(profiles);
const asked = ['exchange-imap', 'exchange-smtp', 'graph-mail'].flatMap((n) => profiles.get(n) ?? []);
const EXCHANGE = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
const tenant = {
  tenantName: 'Contoso',
  tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
  verifiedDomains: ['contoso.example'],
  vendorName: 'Acme PBX',
};
const results: Record<ConsentResultInput['outcome'], ConsentResultInput> = {
  granted: {
    ...tenant,
    outcome: 'granted',
    // The whole registration, as a consent to `/.default` grants it.
    granted: grantedForOnboarding(
      registration,
      asked,
      Object.fromEntries(
        registration.applicationPermissions.map((g) => [g.resource.scope, g.roles.map((r) => r.value)]),
      ),
    ),
    signInScopes: registration.signInScopes,
    missing: [],
  },
  verifying: { ...tenant, outcome: 'verifying', granted: [], missing: [] },
  incomplete: {
    ...tenant,
    outcome: 'incomplete',
    granted: grantedForOnboarding(registration, asked, {
      [EXCHANGE]: ['IMAP.AccessAsApp'],
      [GRAPH]: ['Mail.ReadWrite', 'Mail.Send', 'Organization.Read.All'],
    }),
    signInScopes: registration.signInScopes,
    missing: [{ profileTitle: 'Send email over SMTP', roles: ['SMTP.SendAsApp'] }],
    reconsentUrl: '/connect/n3w',
  },
};

/** The pages the test server serves, by path. */
function pageAt(path: string): Page | undefined {
  if (path === '/connect/k3y')
    return landingPage({
      vendorName: 'Acme PBX',
      customerRef: `<script>alert(1)</script>"onmouseover=alert(2)`,
      profiles: asked,
      permissions: registrationForOnboarding(registration, asked),
      signInScopes: registration.signInScopes,
      goUrl: '/connect/k3y/go',
      expiresAt: new Date('2026-11-20T14:05:00Z'),
    });
  if (path === '/connect/k3y/go')
    return { status: 200, title: 'Microsoft (stand-in)', body: html`<p>ok</p>` };
  if (path === '/confirm')
    return confirmPage({
      ...tenant,
      appliance: { clientId: '6f1c1b52-0000-4000-8000-000000000001', customerRef: 'SITE-7 <b>' },
      action: '/consent/confirm',
      state: 'S'.repeat(43),
    });
  if (path === '/consent/confirm') return { status: 200, title: 'Posted', body: html`<p>ok</p>` };
  const result = /^\/result\/(\w+)$/.exec(path)?.[1];
  if (result && result in results) return consentResultPage(results[result as ConsentResultInput['outcome']]);
  const reason = /^\/error\/(\w+)$/.exec(path)?.[1];
  if (reason && (ERROR_REASONS as readonly string[]).includes(reason))
    return errorPageFor(reason as ErrorReason, {
      vendorName: 'Acme PBX',
      ...(reason === 'consentError' ? { supportCode: 'AADSTS650052' } : {}),
    });
  return undefined;
}

const pagePaths = [
  '/connect/k3y',
  '/confirm',
  ...Object.keys(results).map((o) => `/result/${o}`),
  ...ERROR_REASONS.map((r) => `/error/${r}`),
];

/** Suite titles carry the reason when skipped, so the report says why. */
const title = (name: string) => (missing ? `${name} (skipped: ${missing})` : name);

describe.skipIf(missing !== undefined)(title('consent pages in Chromium'), () => {
  let server: Server;
  let base: string;
  let browser: TestBrowser;
  const requests: { path: string; method?: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const entry = { path, method: req.method, headers: req.headers, body: '' };
      requests.push(entry);
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (entry.body += chunk));
      const page = pageAt(path);
      const reply: HttpReply = page
        ? pageReply(page)
        : path === '/assets/broker.css'
          ? stylesheetReply()
          : { status: 404 };
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('landing page: styled, no CSP violation, hostile customer reference shown as text', async () => {
    const { page, cspViolations, errors } = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    const response = await page.goto(`${base}/connect/k3y`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(await page.title()).toBe('Connect Acme PBX to Microsoft 365');
    // The stylesheet applied (the button is a block with a background), so CSP let it through.
    const button = await computedColours(page, 'a.button');
    expect(parseCssColor(button.background)).not.toEqual(parseCssColor('rgb(255, 255, 255)'));
    expect(await page.locator('dd').nth(1).textContent()).toBe(
      `<script>alert(1)</script>"onmouseover=alert(2)`,
    );
    expect(await page.locator('script').count()).toBe(0);
    expect(await cspViolations()).toEqual([]);
    expect(errors.filter((e) => !/favicon|404/.test(e))).toEqual([]);
    await saveScreenshot(page, 'landing');
  });

  it('landing page: "Continue to Microsoft" is reached by Tab, has a visible focus outline and opens /go by Enter without Referer', async () => {
    const { page } = await browser.newPage();
    await page.goto(`${base}/connect/k3y`);
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Continue to Microsoft'; i++) {
      await page.keyboard.press('Tab');
      focused = (await computedColours(page, ':focus').catch(() => ({ text: '' }))).text;
    }
    expect(focused).toBe('Continue to Microsoft');
    const focus = await computedColours(page, ':focus');
    expect(focus.outlineStyle).toBe('solid');
    expect(parseFloat(focus.outlineWidth)).toBeGreaterThanOrEqual(2);
    // WCAG 2.2 1.4.11: the focus indicator against the page behind it, at least 3:1.
    const pageBackground = (await computedColours(page, 'main')).background;
    expect(
      contrastRatio(parseCssColor(focus.outlineColor), parseCssColor(pageBackground)),
    ).toBeGreaterThanOrEqual(3);
    await saveScreenshot(page, 'landing-button-focused');

    await Promise.all([page.waitForURL(`${base}/connect/k3y/go`), page.keyboard.press('Enter')]);
    const go = requests.filter((r) => r.path === '/connect/k3y/go').at(-1);
    expect(go?.headers.referer).toBeUndefined();
  });

  it('confirmation page: "Connect this appliance" is reached by Tab and posts its state to /consent/confirm', async () => {
    const { page, cspViolations } = await browser.newPage();
    await page.goto(`${base}/confirm`);
    expect(await page.locator('dd').first().textContent()).toBe('SITE-7 <b>');
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Connect this appliance'; i++) {
      await page.keyboard.press('Tab');
      focused = (await computedColours(page, ':focus').catch(() => ({ text: '' }))).text;
    }
    expect(focused).toBe('Connect this appliance');
    expect((await computedColours(page, ':focus')).outlineStyle).toBe('solid');
    await saveScreenshot(page, 'confirm');
    await Promise.all([page.waitForURL(`${base}/consent/confirm`), page.keyboard.press('Enter')]);
    const posted = requests.filter((r) => r.path === '/consent/confirm').at(-1);
    expect(posted?.method).toBe('POST');
    // No-referrer pages post with `Origin: null`: /consent/confirm must not refuse that (Fetch §3.2.5).
    expect(posted?.headers.origin).toBe('null');
    expect(posted?.headers.referer).toBeUndefined();
    expect(posted?.body).toBe(`state=${'S'.repeat(43)}`);
    expect(await cspViolations()).toEqual([]);
  });

  it.each([
    [
      '/connect/k3y',
      [
        'main p',
        'dd',
        'code',
        'h1',
        'h2',
        'h3',
        '.note',
        'a.button',
        '.permissions li',
        '.use-equipment',
        '.use-service',
        '.use-unused',
      ],
    ],
    ['/confirm', ['main p', '.status p', 'dd', 'code', 'button.button']],
    [
      '/result/granted',
      [
        'main p',
        '.status p',
        'dd',
        'code',
        'h3',
        '.permissions li',
        '.use-equipment',
        '.use-service',
        '.use-unused',
      ],
    ],
    ['/result/verifying', ['main p', '.status p']],
    ['/result/incomplete', ['.status p', 'code', 'a.button', '.use-equipment']],
    ['/error/consentError', ['main p', '.status p', '.note', 'code']],
  ])('%s: text contrast is at least 4.5:1 (WCAG 2.2 1.4.3)', async (path, selectors) => {
    const { page } = await browser.newPage();
    await page.goto(`${base}${path}`);
    for (const selector of selectors) {
      const c = await computedColours(page, selector);
      const ratio = contrastRatio(parseCssColor(c.color), parseCssColor(c.background));
      expect(ratio, `${selector}: ${c.color} on ${c.background}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it.each(pagePaths)(
    '%s: no CSP violation, one h1, reflows at 320 CSS px, i.e. 200 percent zoom',
    async (path) => {
      const { page, cspViolations } = await browser.newPage({ viewport: { width: 320, height: 640 } });
      const response = await page.goto(`${base}${path}`);
      expect(response?.status()).toBe(pageAt(path)?.status);
      expect(await page.locator('h1').count()).toBe(1);
      expect(await page.locator('main').count()).toBe(1);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow, 'horizontal scrolling at 320 px').toBeLessThanOrEqual(0);
      expect(await cspViolations()).toEqual([]);
    },
  );

  it('saves screenshots of the result and error pages', async () => {
    const { page } = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    for (const path of [
      '/result/granted',
      '/result/verifying',
      '/result/incomplete',
      '/error/notAnAdmin',
      '/error/consentError',
    ]) {
      await page.goto(`${base}${path}`);
      await saveScreenshot(page, path.slice(1).replace('/', '-'));
    }
    const narrow = await browser.newPage({ viewport: { width: 320, height: 640 } });
    await narrow.page.goto(`${base}/connect/k3y`);
    await saveScreenshot(narrow.page, 'landing-320px');
  });

  it('the harness reports a CSP violation when there is one (the check can fail)', async () => {
    const { page, cspViolations } = await browser.newPage();
    await page.goto(`${base}/connect/k3y`);
    // An inline style added after load is blocked by style-src 'self' and reported.
    await page.evaluate('document.body.insertAdjacentHTML("beforeend", "<style>body{color:red}</style>")');
    await expect.poll(cspViolations).not.toEqual([]);
  });
});

describe.skipIf(missing !== undefined)(title('harness: trust of the sandbox CA'), () => {
  const discovery = () => `${inject('entraUrl')}/organizations/v2.0/.well-known/openid-configuration`;

  it('opens a simulator page over HTTPS when told to trust the sandbox CA for it', async () => {
    const browser = await launchBrowser({
      trust: { caPath: inject('caBundlePath'), origins: [inject('entraUrl')] },
    });
    try {
      const { page } = await browser.newPage();
      const response = await page.goto(discovery());
      expect(response?.status()).toBe(200);
      expect(await response?.text()).toContain('"issuer"');
    } finally {
      await browser.close();
    }
  });

  it('refuses the same page without it (nothing is blanket-ignored)', async () => {
    const browser = await launchBrowser();
    try {
      const { page } = await browser.newPage();
      await expect(page.goto(discovery())).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await browser.close();
    }
  });
});
