/**
 * The support console's actions on the wire (issue 22), each through the domain code of its support API route:
 * a check with its remediation, exchange-setup.ps1 as a download, a consent link, an appliance whose secret is
 * shown once and works at the token endpoint, a rotated secret, a revoked appliance, and an offboarding confirmed
 * by the tenant id. Broker.Read may check and download but not change; every POST needs the CSRF token.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth } from '../helpers/appliances.js';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

let broker: TestBroker;
let customer: ConsentedTenant;

beforeAll(async () => {
  broker = await startTestBroker();
  customer = await consentedTenant(broker.url, await broker.staffToken(), 'Console Actions', [
    'exchange-imap',
    'exchange-smtp',
  ]);
});
afterAll(async () => {
  await broker?.close();
});

interface Session {
  readonly browser: ConsentBrowser;
  readonly csrf: string;
  post(path: string, fields: Record<string, string>, withCsrf?: boolean): Promise<Visit>;
}

async function signIn(account: string): Promise<Session> {
  const browser = new ConsentBrowser(broker.url);
  const page = await browser.submit(await browser.open(`${broker.url}/console`), { account });
  expect(page.status).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  return {
    browser,
    csrf,
    async post(path, fields, withCsrf = true) {
      const res = await fetch(`${broker.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: browser.cookieHeader(`${broker.url}${path}`),
        },
        body: new URLSearchParams({ ...(withCsrf ? { csrf } : {}), ...fields }).toString(),
        redirect: 'manual',
      });
      return { url: path, status: res.status, headers: res.headers, body: await res.text() };
    },
  };
}

const token = async (clientId: string, clientSecret: string) =>
  (
    await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuth({ clientId, clientSecret }),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default',
    })
  ).status;

describe('support console actions', () => {
  it("runs a check and shows each result with its remediation, through the API's checks", async () => {
    const admin = await signIn(inject('sandbox').staff.admin);
    const page = await admin.post(`/console/tenants/${customer.tenantId}/check`, { mailboxes: 'nobody' });
    expect(page.status).toBe(400);
    expect(page.body).toContain('Nothing was changed');
    const ok = await admin.post(`/console/tenants/${customer.tenantId}/check`, {});
    expect(ok.status).toBe(200);
    // Test Connection as the PBX would: an IMAP login to a mailbox of the tenant.
    const imap = await admin.post(`/console/tenants/${customer.tenantId}/check`, {
      mailboxes: `desk@${customer.domain}`,
      'protocol:imap': 'on',
    });
    expect(imap.status).toBe(200);
    expect(imap.body).toContain(`<code>imap:desk@${customer.domain}</code>`);
    expect(ok.body).toContain('Check of Console Actions');
    expect(ok.body).toContain('<code>token:exchange</code>');
    expect(ok.body).toContain('<code>roles:exchange-imap</code>');
    // The copy buttons' script, from this origin only.
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(ok.body).toMatch(/<script src="\/assets\/console\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    const script = await fetch(`${broker.url}/assets/console.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('downloads exchange-setup.ps1 as the API writes it, and refuses a bad address', async () => {
    const reader = await signIn(inject('sandbox').staff.reader);
    const path = `/console/tenants/${customer.tenantId}/exchange-setup.ps1?mailboxes=desk%40${customer.domain}`;
    const res = await fetch(`${broker.url}${path}`, {
      headers: { cookie: reader.browser.cookieHeader(`${broker.url}${path}`) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="exchange-setup-${customer.tenantId}.ps1"`,
    );
    const script = await res.text();
    expect(script).toContain(`desk@${customer.domain}`);
    expect(script).toContain('New-ServicePrincipal');
    const bad = `/console/tenants/${customer.tenantId}/exchange-setup.ps1?mailboxes=%3Cscript%3E`;
    const refused = await fetch(`${broker.url}${bad}`, {
      headers: { cookie: reader.browser.cookieHeader(`${broker.url}${bad}`) },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).not.toContain('<script>');
  });

  it('lets Broker.Read read and check but not change, and refuses a form without the CSRF token', async () => {
    const reader = await signIn(inject('sandbox').staff.reader);
    const link = await reader.post(`/console/tenants/${customer.tenantId}/onboardings`, {
      customerRef: 'X-1',
    });
    expect(link.status).toBe(403);
    expect(link.body).toContain('Broker.Admin needed');
    const admin = await signIn(inject('sandbox').staff.admin);
    const forged = await admin.post(
      `/console/tenants/${customer.tenantId}/onboardings`,
      { customerRef: 'X-1' },
      false,
    );
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('Form expired');
  });

  it(
    'creates a consent link, registers an appliance with a secret shown once that works, rotates and revokes it',
    { timeout: 60_000 },
    async () => {
      const admin = await signIn(inject('sandbox').staff.admin);
      const link = await admin.post(`/console/tenants/${customer.tenantId}/onboardings`, {
        customerRef: 'REF-consoleactions',
      });
      expect(link.status).toBe(200);
      expect(link.body).toMatch(/<code id="link">http:\/\/localhost:7071\/connect\/[\w-]+<\/code>/);

      const none = await admin.post(`/console/tenants/${customer.tenantId}/appliances`, {
        customerRef: 'REF-x',
      });
      expect(none.status).toBe(400);
      const registered = await admin.post(`/console/tenants/${customer.tenantId}/appliances`, {
        customerRef: 'REF-consoleactions',
        'profile:exchange-imap': 'on',
      });
      expect(registered.status).toBe(200);
      const clientId = /Client id<\/dt>\s*<dd><code>([0-9a-f-]{36})<\/code>/.exec(registered.body)![1]!;
      const secret = /<code id="secret">([^<]+)<\/code>/.exec(registered.body)![1]!;
      expect(await token(clientId, secret)).toBe(200);
      // Shown once: the tenant page lists the appliance, never its secret.
      const tenantPage = await admin.browser.open(`${broker.url}/console/tenants/${customer.tenantId}`);
      expect(tenantPage.body).toContain(clientId);
      expect(tenantPage.body).not.toContain(secret);

      const rotated = await admin.post(`/console/appliances/${clientId}/secret`, {});
      expect(rotated.status).toBe(200);
      const second = /<code id="secret">([^<]+)<\/code>/.exec(rotated.body)![1]!;
      expect(second).not.toBe(secret);
      expect(rotated.body).toContain('The previous secret keeps working until');
      expect(await token(clientId, second)).toBe(200);

      const revoked = await admin.post(`/console/appliances/${clientId}/revoke`, {});
      expect(revoked.status).toBe(200);
      expect(revoked.body).toContain(`Appliance ${clientId} is revoked.`);
      // Everywhere within 60 s (SPEC.md): each instance at its next read of the change journal.
      await vi.waitFor(async () => expect(await token(clientId, second)).toBe(401), {
        timeout: 30_000,
        interval: 1_000,
      });
    },
  );

  it('offboards only when the tenant id is typed, as DELETE /api/tenants/{tenantId} does', async () => {
    const admin = await signIn(inject('sandbox').staff.admin);
    const other = await consentedTenant(broker.url, await broker.staffToken(), 'Console Offboard', [
      'exchange-imap',
    ]);
    const wrong = await admin.post(`/console/tenants/${other.tenantId}/offboard`, { confirm: 'yes' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain(`type its tenant id ${other.tenantId}`);
    const done = await admin.post(`/console/tenants/${other.tenantId}/offboard`, { confirm: other.tenantId });
    expect(done.status).toBe(200);
    expect(done.body).toContain('Tenant offboarded');
    const record = await fetch(`${broker.url}/api/tenants/${other.tenantId}`, {
      headers: { authorization: `Bearer ${await broker.staffToken()}` },
    });
    expect(((await record.json()) as { status: string }).status).toBe('offboarded');
    const audit = await fetch(`${broker.url}/api/audit?tenantId=${other.tenantId}`, {
      headers: { authorization: `Bearer ${await broker.staffToken()}` },
    });
    const entries = ((await audit.json()) as { items: { action: string; actor: { kind: string } }[] }).items;
    expect(entries.some((e) => e.action === 'tenant.offboarded' && e.actor.kind === 'staff')).toBe(true);
  });

  it('shows the tokens issued per hour as a chart with its figures, and no credential ending, on the overview', async () => {
    const admin = await signIn(inject('sandbox').staff.admin);
    const registered = await admin.post(`/console/tenants/${customer.tenantId}/appliances`, {
      customerRef: 'REF-consoleactions',
      'profile:exchange-imap': 'on',
    });
    const clientId = /Client id<\/dt>\s*<dd><code>([0-9a-f-]{36})<\/code>/.exec(registered.body)![1]!;
    const secret = /<code id="secret">([^<]+)<\/code>/.exec(registered.body)![1]!;
    for (let i = 0; i < 3; i++) expect(await token(clientId, secret)).toBe(200);
    await broker.flushUsage();
    const overview = await admin.browser.open(`${broker.url}/console`);
    expect(overview.body).toContain('Tokens issued per hour, last 24 hours (UTC)');
    const hour = new Date().toISOString().slice(0, 13).replace('T', ' ');
    // The figures' table: this hour's row counts (at least) the three tokens just issued.
    const row = new RegExp(`<td>${hour}:00 UTC</td>\\s*<td>(\\d+)</td>`).exec(overview.body);
    expect(Number(row?.[1])).toBeGreaterThanOrEqual(3);
    expect(overview.body).toMatch(
      /<svg viewBox="0 0 720 200" role="img" aria-labelledby="tokens-day-title">/,
    );
    expect(overview.body).toContain('No credential ends within 30 days.');
  });
});
