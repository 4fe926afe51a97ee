/**
 * The consent flow's pages as strings: escaping, headers, status codes, the approver rule (FACTS.md §1.5)
 * and what each page tells the admin. test/browser/pages.test.ts renders the same pages in Chromium.
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  approverRolesFor,
  BROKER_CSS,
  consentResultPage,
  ERROR_REASONS,
  errorPage,
  errorPageFor,
  escapeHtml,
  GRAPH_APP_ID,
  html,
  landingPage,
  PAGE_CSP,
  pageReply,
  safeHref,
  STYLESHEET_PATH,
  stylesheetReply,
  type LandingPageInput,
  type Page,
} from '../../src/http/pages/index.js';
import { loadProfiles, parseProfiles, type Profile, type Profiles } from '../../src/profiles/profiles.js';
import {
  grantedForOnboarding,
  homeAppRegistration,
  registrationForOnboarding,
  type PermissionGroup,
} from '../../src/profiles/registration.js';

const profiles: Profiles = await loadProfiles(undefined);
const registration = homeAppRegistration(profiles);
const profile = (name: string): Profile => {
  const p = profiles.get(name);
  if (!p) throw new Error(`no default profile ${name}`);
  return p;
};
const HOSTILE = `<script>alert(1)</script>"onmouseover=alert(2) x='y' \`z\` &amp;`;

/** Markup with whitespace runs collapsed, so that assertions do not depend on source indentation. */
const norm = (markup: string | { toString(): string } | undefined): string =>
  String(markup ?? '')
    .replace(/\s+/g, ' ')
    .replace(/> </g, '><');

const landing = (over: Partial<LandingPageInput> = {}): Page => {
  const asked = over.profiles ?? [profile('exchange-imap'), profile('exchange-smtp'), profile('graph-mail')];
  return landingPage({
    vendorName: 'Acme PBX',
    customerRef: 'site-0042',
    profiles: asked,
    permissions: registrationForOnboarding(registration, asked),
    signInScopes: registration.signInScopes,
    goUrl: '/connect/k3y/go',
    expiresAt: new Date('2026-11-20T14:05:00Z'),
    ...over,
  });
};

/** A result page's granted list, as the endpoint builds it from a tenant's proven roles. */
const grantedOf = (roles: Record<string, string[]>, asked: readonly Profile[]): PermissionGroup[] =>
  grantedForOnboarding(registration, asked, roles);
const EXCHANGE = 'https://outlook.office365.com/.default';

/** Every page the module can produce, for checks that hold for all of them. */
const allPages = (): [string, Page][] => [
  ['landing', landing({ vendorName: HOSTILE, customerRef: HOSTILE })],
  [
    'granted',
    consentResultPage({
      outcome: 'granted',
      vendorName: HOSTILE,
      tenantName: HOSTILE,
      tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
      verifiedDomains: [HOSTILE],
      granted: [
        {
          resourceAppId: undefined,
          resourceName: HOSTILE,
          permissions: [{ value: HOSTILE, description: HOSTILE, use: 'equipment' }],
        },
      ],
      missing: [],
    }),
  ],
  ['verifying', consentResultPage({ outcome: 'verifying', tenantId: HOSTILE, granted: [], missing: [] })],
  [
    'incomplete',
    consentResultPage({
      outcome: 'incomplete',
      tenantId: 't',
      granted: [],
      missing: [{ profileTitle: HOSTILE, roles: [HOSTILE] }],
      reconsentUrl: `https://broker.example/connect/x?y="${HOSTILE}`,
    }),
  ],
  ...ERROR_REASONS.map((reason): [string, Page] => [
    reason,
    errorPageFor(reason, { vendorName: HOSTILE, supportCode: HOSTILE }),
  ]),
];

describe('html template', () => {
  it('escapes every interpolation and leaves SafeHtml fragments as they are', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(
      html`<p title="${'"x'}">${'a&b'}${inner}${['<', html`<br />`]}${null}${false}${3}</p>`.toString(),
    ).toBe('<p title="&quot;x">a&amp;b<b>&lt;i&gt;</b>&lt;<br />3</p>');
    expect(escapeHtml(`<>&"'\``)).toBe('&lt;&gt;&amp;&quot;&#39;&#96;');
  });

  it('accepts only http(s) or same-site links', () => {
    expect(safeHref('/connect/a/go')).toBe('/connect/a/go');
    expect(safeHref('https://broker.example/connect/a')).toBe('https://broker.example/connect/a');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example/x', 'connect/a'])
      expect(() => safeHref(bad), bad).toThrow(RangeError);
  });
});

describe('pageReply', () => {
  it('is a complete HTML5 document with one h1 and the security headers (CSP exact)', () => {
    const reply = pageReply(landing());
    expect(reply.status).toBe(200);
    expect(reply.headers).toEqual({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    expect(reply.headers?.['content-security-policy']).toBe(PAGE_CSP);
    const body = reply.body ?? '';
    expect(norm(body).startsWith('<!doctype html><html lang="en">')).toBe(true);
    expect(norm(body)).toContain('<meta name="viewport" content="width=device-width, initial-scale=1" />');
    expect(norm(body)).toContain('<title>Connect Acme PBX to Microsoft 365</title>');
    expect(norm(body)).toContain(`<link rel="stylesheet" href="${STYLESHEET_PATH}" />`);
    expect(body.match(/<h1>/g)).toHaveLength(1);
    expect(body.match(/<main>/g)).toHaveLength(1);
  });

  it('takes a valid lang, falls back to en otherwise, and lets no page header replace a security header', () => {
    const page: Page = {
      status: 503,
      title: 't',
      body: html``,
      lang: 'de-CH',
      headers: { 'retry-after': '30', 'Content-Security-Policy': "script-src 'unsafe-inline'" },
    };
    const reply = pageReply(page);
    expect(norm(reply.body)).toContain('<html lang="de-CH">');
    expect(reply.headers?.['retry-after']).toBe('30');
    expect(reply.headers?.['content-security-policy']).toBe(PAGE_CSP);
    expect(Object.keys(reply.headers ?? {}).filter((h) => /content-security-policy/i.test(h))).toHaveLength(
      1,
    );
    expect(norm(pageReply({ ...page, lang: '"><script>' }).body)).toContain('<html lang="en">');
  });

  it.each(allPages())('%s: hostile input is inert, and no inline script, style or handler', (_name, page) => {
    const body = pageReply(page).body ?? '';
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toMatch(/\sstyle\s*=/i);
    expect(body).not.toMatch(/<style/i);
    expect(body).not.toMatch(/\son[a-z]+\s*=/i);
    expect(body).not.toMatch(/javascript:/i);
    expect(norm(body)).not.toContain(`"onmouseover`);
    // The customer reference, tenant name, support code... appear, escaped.
    expect(norm(body)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=');
    expect(body.match(/<h1>/g)).toHaveLength(1);
  });

  it('serves the stylesheet as text/css, long-cached, at a URL that changes with its text', () => {
    const reply = stylesheetReply();
    expect(reply).toEqual({
      status: 200,
      headers: {
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      },
      body: BROKER_CSS,
    });
    expect(STYLESHEET_PATH).toMatch(/^\/assets\/broker\.css\?v=[0-9a-f]{12}$/);
    expect(BROKER_CSS).toMatch(/:focus-visible\s*\{\s*outline: 3px solid/);
  });
});

describe('landing page (GET /connect/{code})', () => {
  it('names vendor and customer, lists what is granted by resource in plain words, and links to /go', () => {
    const body = landing().body.toString();
    expect(norm(body)).toContain('Acme PBX asks you to connect');
    expect(norm(body)).toContain('<dt>Customer reference</dt><dd>site-0042</dd>');
    expect(norm(body)).toContain('<h3>Office 365 Exchange Online</h3>');
    expect(norm(body)).toContain('<h3>Microsoft Graph</h3>');
    expect(norm(body)).toContain(
      '<li> Sign in to mailboxes over IMAP as the application (only mailboxes your Exchange admin grants it) <code>IMAP.AccessAsApp</code> — <strong class="use-equipment">Used by your equipment</strong></li>',
    );
    expect(norm(body)).toContain('<code>SMTP.SendAsApp</code> — <strong class="use-equipment">');
    expect(norm(body)).toContain('<code>Mail.Send</code> — <strong class="use-equipment">');
    // The broker's own role is listed too: the admin grants it as well.
    expect(norm(body)).toContain(
      '<code>Organization.Read.All</code> — <span class="use-service">Used by this service</span>',
    );
    // So is every other role of the registration (`/.default`, FACTS.md §1.1), marked as not used.
    expect(norm(body)).toContain(
      '<code>POP.AccessAsApp</code> — <span class="use-unused">Not used by your equipment</span>',
    );
    expect(norm(body)).toContain('also holds permissions that your equipment does not use');
    expect(norm(body)).toContain('<h3>Your sign-in</h3>');
    expect(norm(body)).toContain('sign you in and read your basic profile, once, to confirm who consented');
    expect(norm(body)).toContain('<code>offline_access</code>');
    expect(norm(body)).toContain('<li>Read and send mail through Microsoft Graph</li>');
    expect(norm(body)).toContain('<a class="button" href="/connect/k3y/go">Continue to Microsoft</a>');
    expect(norm(body)).toContain(
      '<time datetime="2026-11-20T14:05:00.000Z">20 November 2026 at 14:05 UTC</time>',
    );
    expect(norm(body)).toContain('no password is shared with Acme PBX');
    expect(norm(body)).toContain('Nothing is installed');
  });

  it('lists a role requested by two profiles once', () => {
    const body = landing({ profiles: [profile('exchange-imap'), profile('exchange-imap')] }).body.toString();
    expect(body.match(/<code>IMAP\.AccessAsApp<\/code>/g)).toHaveLength(1);
  });

  it('Graph app roles requested: only a Global Administrator or Privileged Role Administrator can approve (FACTS.md §1.5)', () => {
    const body = landing().body.toString();
    expect(norm(body)).toContain('<li>Global Administrator</li>');
    expect(norm(body)).toContain('<li>Privileged Role Administrator</li>');
    expect(norm(body)).not.toContain('<li>Cloud Application Administrator</li>');
    expect(norm(body)).not.toContain('<li>Application Administrator</li>');
    expect(norm(body)).toContain(
      'cannot approve this request, because it includes Microsoft Graph application permissions',
    );
  });

  it('a registration with only Exchange Online app roles: Cloud Application and Application Administrators can approve too', () => {
    const exchangeOnly = parseProfiles(
      {
        resources: {
          exchange: {
            scope: EXCHANGE,
            appId: '00000002-0000-0ff1-ce00-000000000000',
            displayName: 'Office 365 Exchange Online',
          },
        },
        profiles: [
          {
            name: 'exchange-imap',
            title: 'IMAP',
            resource: 'exchange',
            roles: profile('exchange-imap').roles,
          },
        ],
      },
      'exchange-only.json',
    );
    const asked = [exchangeOnly.get('exchange-imap')!];
    const body = landing({
      profiles: asked,
      permissions: registrationForOnboarding(homeAppRegistration(exchangeOnly), asked),
    }).body.toString();
    expect(norm(body)).toContain('<li>Global Administrator</li>');
    expect(norm(body)).toContain('<li>Privileged Role Administrator</li>');
    expect(norm(body)).toContain('<li>Cloud Application Administrator</li>');
    expect(norm(body)).toContain('<li>Application Administrator</li>');
    expect(norm(body)).not.toContain('<h3>Microsoft Graph</h3>');
    expect(norm(body)).not.toContain('also holds permissions that your equipment does not use');
  });

  it('the default registration includes Graph app roles, so even an Exchange-only onboarding needs GA/PRA', () => {
    const body = landing({ profiles: [profile('exchange-imap')] }).body.toString();
    expect(norm(body)).not.toContain('<li>Cloud Application Administrator</li>');
    expect(norm(body)).toContain('<h3>Microsoft Graph</h3>');
  });

  it('approverRolesFor derives the roles from the resources, with their wids template ids', () => {
    expect(approverRolesFor([GRAPH_APP_ID.toUpperCase()]).map((r) => r.templateId)).toEqual([
      '62e90394-69f5-4237-9190-012177145e10',
      'e8611ab8-c189-46e8-94e1-60213ab1f814',
    ]);
    expect(approverRolesFor(['00000002-0000-0ff1-ce00-000000000000']).map((r) => r.name)).toEqual([
      'Global Administrator',
      'Privileged Role Administrator',
      'Cloud Application Administrator',
      'Application Administrator',
    ]);
  });

  it('refuses a goUrl that is not http(s) or a path', () => {
    expect(() => landing({ goUrl: 'javascript:alert(1)' })).toThrow(RangeError);
  });
});

describe('consent result page', () => {
  const base = {
    tenantName: 'Contoso',
    tenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
    verifiedDomains: ['contoso.example', 'contoso.onmicrosoft.com'],
    granted: grantedOf({ [EXCHANGE]: ['IMAP.AccessAsApp', 'SMTP.SendAsApp'] }, [profile('exchange-imap')]),
    signInScopes: registration.signInScopes,
    missing: [],
  };

  it('granted: says done, names the tenant and what was granted', () => {
    const page = consentResultPage({ ...base, outcome: 'granted', vendorName: 'Acme PBX' });
    const body = page.body.toString();
    expect(page.status).toBe(200);
    expect(page.title).toBe('Your organization is connected');
    expect(norm(body)).toContain('<span class="status-label">Done.</span>');
    expect(norm(body)).toContain('<dt>Name</dt><dd>Contoso</dd>');
    expect(norm(body)).toContain('<code>c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90</code>');
    expect(norm(body)).toContain('contoso.example, contoso.onmicrosoft.com');
    expect(norm(body)).toContain('<h3>Office 365 Exchange Online</h3>');
    // In plain words, marked with who uses each (the onboarding asked for IMAP only).
    expect(norm(body)).toContain(
      '<li> Sign in to mailboxes over IMAP as the application (only mailboxes your Exchange admin grants it) <code>IMAP.AccessAsApp</code> — <strong class="use-equipment">Used by your equipment</strong></li>',
    );
    expect(norm(body)).toContain(
      '<code>SMTP.SendAsApp</code> — <span class="use-unused">Not used by your equipment</span></li>',
    );
    expect(norm(body)).toContain('<h3>Your sign-in</h3>');
    expect(norm(body)).toContain('<code>openid</code>');
    expect(norm(body)).toContain('For mail over IMAP, POP or SMTP');
    expect(norm(body)).toContain("Acme PBX's equipment can now connect");
    expect(norm(body)).not.toContain('Missing');
  });

  it('granted: a role the registration does not list is shown by its name; the mailbox note only for mail protocols the equipment uses', () => {
    const body = consentResultPage({
      ...base,
      outcome: 'granted',
      granted: grantedOf(
        {
          [EXCHANGE]: ['SMTP.SendAsApp', 'Exchange.ManageAsApp'],
          'https://graph.microsoft.com/.default': [],
        },
        [profile('graph-mail')],
      ),
    }).body.toString();
    expect(norm(body)).toContain(
      '<li><code>Exchange.ManageAsApp</code> — <span class="use-unused">Not used by your equipment</span></li>',
    );
    expect(norm(body)).not.toContain('<h3>Microsoft Graph</h3>');
    expect(norm(body)).not.toContain('For mail over IMAP, POP or SMTP');
  });

  it('incomplete: lists what is missing per profile, who must approve, and the new consent link', () => {
    const page = consentResultPage({
      ...base,
      outcome: 'incomplete',
      missing: [{ profileTitle: 'Read and send mail through Microsoft Graph', roles: ['Mail.Send'] }],
      reconsentUrl: 'https://broker.example/connect/n3w',
    });
    const body = page.body.toString();
    expect(page.status).toBe(200);
    expect(page.title).toBe('Some permissions are missing');
    expect(norm(body)).toContain('<span class="status-label">Action needed.</span>');
    expect(norm(body)).toContain(
      '<h3>Read and send mail through Microsoft Graph</h3><ul><li><code>Mail.Send</code></li></ul>',
    );
    expect(norm(body)).toContain(
      '<a class="button" href="https://broker.example/connect/n3w">Open the consent page again</a>',
    );
    expect(norm(body)).toContain('Global Administrator or a Privileged Role Administrator');
  });

  it('incomplete without a link: asks for a new consent link', () => {
    const body = consentResultPage({
      ...base,
      outcome: 'incomplete',
      missing: [{ profileTitle: 'x', roles: ['Mail.Send'] }],
    }).body.toString();
    expect(norm(body)).toContain('Ask the vendor for a new consent link');
    expect(norm(body)).not.toContain('class="button"');
  });

  it('granted with roles missing is shown as incomplete', () => {
    const page = consentResultPage({
      ...base,
      outcome: 'granted',
      missing: [{ profileTitle: 'x', roles: ['a'] }],
    });
    expect(page.title).toBe('Some permissions are missing');
  });

  it('verifying: consent received, confirmed automatically, nothing more to do, never "wait and retry"', () => {
    const page = consentResultPage({ ...base, granted: [], outcome: 'verifying', vendorName: 'Acme PBX' });
    const body = page.body.toString();
    expect(page.status).toBe(200);
    expect(page.title).toBe('Consent received');
    expect(norm(body)).toContain('<span class="status-label">In progress.</span>');
    expect(norm(body)).toContain('confirms it by itself');
    expect(norm(body)).toContain('You do not need to do anything more.');
    expect(norm(body)).toContain('Acme PBX sees the progress');
    expect(norm(body).replace(/<[^>]+>/g, '')).not.toMatch(/retry|try again|minutes|wait/i);
    expect(norm(body)).not.toContain('Granted permissions');
  });
});

describe('error pages', () => {
  it('errorPage: status, heading as title and h1, explanation, what to do, support code in <code>', () => {
    const page = errorPage({
      status: 403,
      heading: 'Nope',
      explanation: 'Because.',
      whatToDo: 'Ask someone.',
      supportCode: 'AADSTS50020',
    });
    expect(page.status).toBe(403);
    expect(page.title).toBe('Nope');
    const reply = pageReply(page);
    expect(norm(reply.body)).toContain('<h1>Nope</h1>');
    expect(norm(reply.body)).toContain('<p>Because.</p>');
    expect(norm(reply.body)).toContain('<h2>What you can do</h2><p>Ask someone.</p>');
    expect(norm(reply.body)).toContain('give them this code: <code>AADSTS50020</code>');
  });

  it('errorPage refuses a status that is not 4xx/5xx, and cuts an overlong support code', () => {
    expect(() => errorPage({ status: 200, heading: 'h', explanation: 'e', whatToDo: 'w' })).toThrow(
      RangeError,
    );
    const body = errorPage({
      status: 400,
      heading: 'h',
      explanation: 'e',
      whatToDo: 'w',
      supportCode: 'x'.repeat(5000),
    }).body.toString();
    expect(norm(body)).toContain(`<code>${'x'.repeat(200)}</code>`);
    expect(norm(body)).not.toContain('x'.repeat(201));
  });

  it.each([
    ['linkNotFound', 404],
    ['linkExpired', 410],
    ['linkUsed', 410],
    ['stateInvalid', 400],
    ['stateExpired', 400],
    ['stateReplayed', 409],
    ['badParameters', 400],
    ['consentDenied', 403],
    ['consentError', 400],
    ['notAnAdmin', 403],
    ['notAMember', 403],
    ['tenantMismatch', 403],
    ['temporarilyUnavailable', 503],
    ['serverError', 500],
  ] as const)('%s answers %i', (reason, status) => {
    expect(errorPageFor(reason).status).toBe(status);
  });

  it('the catalogue covers every reason', () => {
    expect(ERROR_REASONS).toHaveLength(21);
  });

  it('codeAttemptsUsed and enrollmentClosed: self-enrollment’s refusals say what to do next', () => {
    const used = errorPageFor('codeAttemptsUsed');
    expect(used.status).toBe(410);
    expect(norm(used.body.toString())).toContain('it shows a new code');
    const closed = errorPageFor('enrollmentClosed', { vendorName: 'Acme PBX' });
    expect(closed.status).toBe(403);
    expect(norm(closed.body.toString())).toContain('Ask Acme PBX for a consent link');
  });

  it('userCodeUnknown and tooManyAttempts: the device page’s refusals, in words a user follows', () => {
    const unknown = errorPageFor('userCodeUnknown');
    expect(unknown.status).toBe(404);
    expect(norm(unknown.body.toString())).toContain('more than 15 minutes old');
    const tooMany = errorPageFor('tooManyAttempts');
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers).toEqual({ 'retry-after': '300' });
  });

  it('wrongMailbox: another account than the mailbox the link is for', () => {
    const page = errorPageFor('wrongMailbox', { vendorName: 'Acme PBX' });
    expect(page.status).toBe(403);
    expect(norm(page.body.toString())).toContain('not the mailbox this link is for');
  });

  it('consentDenied: the admin cancelled; AADSTS65004 kept for support', () => {
    const body = errorPageFor('consentDenied').body.toString();
    expect(norm(body)).toContain('cancelled or declined at Microsoft');
    expect(norm(body)).toContain('<code>AADSTS65004</code>');
  });

  it('consentError: known AADSTS codes in plain words, any other code shown for support', () => {
    const known = errorPageFor('consentError', { supportCode: 'AADSTS650052' }).body.toString();
    expect(norm(known)).toContain('does not subscribe to a Microsoft service');
    expect(norm(known)).toContain('<code>AADSTS650052</code>');
    const other = errorPageFor('consentError', {
      supportCode: 'AADSTS999999',
      vendorName: 'Acme PBX',
    }).body.toString();
    expect(norm(other)).toContain('Microsoft answered with an error');
    expect(norm(other)).toContain('contact Acme PBX&#39;s support');
    expect(norm(other)).toContain('<code>AADSTS999999</code>');
  });

  it('notAnAdmin: ask a Global Administrator or Privileged Role Administrator', () => {
    const page = errorPageFor('notAnAdmin');
    expect(norm(page.body.toString())).toContain(
      'Ask a Global Administrator or a Privileged Role Administrator',
    );
  });

  it('notAMember: a guest or an account of another organization', () => {
    expect(errorPageFor('notAMember').body.toString()).toContain('guest account');
  });

  it('temporarilyUnavailable: try again in a few minutes, Retry-After when known, nothing recorded', () => {
    const reply = pageReply(errorPageFor('temporarilyUnavailable', { retryAfterSeconds: 29.2 }));
    expect(reply.status).toBe(503);
    expect(reply.headers?.['retry-after']).toBe('30');
    expect(norm(reply.body)).toContain('again in a few minutes');
    expect(norm(reply.body)).toContain('Nothing was recorded.');
    expect(pageReply(errorPageFor('temporarilyUnavailable')).headers?.['retry-after']).toBeUndefined();
  });

  it('stateReplayed: the response was already used, not "done" again', () => {
    const body = errorPageFor('stateReplayed').body.toString();
    expect(norm(body)).toContain('counts only once');
  });
});
