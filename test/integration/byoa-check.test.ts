/**
 * A tenant on its own app ("bring your own app"): `POST /api/tenants/{tenantId}/check` and
 * `GET /api/tenants/{tenantId}/exchange-setup.ps1` name that app, never the home app: its client id, and the
 * object id of *its* enterprise application in the tenant. Exchange's New-ServicePrincipal takes both from the
 * same enterprise application (X-OAUTH); the home app's id with the tenant app's object id makes IMAP/POP/SMTP
 * fail. The tenant has consented to the home app too, so that the two enterprise applications both exist.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  remediation: string | null;
}

let broker: TestBroker;
let admin: string;
let homeAppId: string;
let own: {
  tenantId: string;
  domain: string;
  appId: string;
  /** The app registration's object id, which Exchange must not be given. */
  registrationObjectId: string;
  /** The object id of the own app's enterprise application (service principal) in the tenant. */
  spObjectId: string;
  homeSpObjectId: string;
};

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  homeAppId = inject('sandbox').homeApp.clientId;
  const domain = `byoa-${Date.now()}.example`;
  const tenantId = await newTenant('Own App Check GmbH', [domain]);
  await consentHomeApp(tenantId);
  // The customer's own registration in its own tenant (it gets its enterprise application there at once).
  const app = await control<{ appId: string; objectId: string }>('POST', '/_sim/apps', {
    homeTenantId: tenantId,
    displayName: 'Own PBX mail app',
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp', 'SMTP.SendAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All', 'Mail.ReadWrite'],
    },
  });
  const secret = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  await control('POST', `/_sim/tenants/${tenantId}/mailboxes`, { address: `queue@${domain}` });
  const sim = await control<{ servicePrincipals: { appId: string; objectId: string }[] }>(
    'GET',
    `/_sim/tenants/${tenantId}`,
  );
  const spOf = (appId: string) => sim.servicePrincipals.find((s) => s.appId === appId)!.objectId;
  own = {
    tenantId,
    domain,
    appId: app.appId,
    registrationObjectId: app.objectId,
    spObjectId: spOf(app.appId),
    homeSpObjectId: spOf(homeAppId),
  };
  const put = await fetch(`${broker.url}/api/tenants/${tenantId}/app-credential`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: app.appId,
      clientSecret: secret.value,
      expiresOn: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    }),
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await broker?.close();
});

/** What the broker must never write for this tenant: the home app's ids, or the registration's object id. */
function expectNoHomeApp(text: string) {
  expect(text).not.toContain(homeAppId);
  expect(text).not.toContain(own.homeSpObjectId);
  expect(text).not.toContain(own.registrationObjectId);
}

describe('a tenant on its own app', () => {
  it("POST …/check names the tenant's app id and its enterprise application's object id", async () => {
    expect(own.spObjectId).not.toBe(own.homeSpObjectId);
    const res = await fetch(`${broker.url}/api/tenants/${own.tenantId}/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mailboxes: [`queue@${own.domain}`] }),
    });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { checks: Check[] };
    const exchange = report.checks.find((c) => c.name === 'exchange-setup');
    expect(exchange).toMatchObject({ ok: true });
    expect(exchange!.detail).toContain(`object id ${own.spObjectId}, app id ${own.appId}`);
    expect(exchange!.remediation).toContain(
      `New-ServicePrincipal -AppId '${own.appId}' -ObjectId '${own.spObjectId}' -DisplayName 'Own PBX mail app'`,
    );
    expect(exchange!.remediation).toContain(
      `Add-MailboxPermission -Identity 'queue@${own.domain}' -User '${own.spObjectId}' -AccessRights FullAccess`,
    );
    expectNoHomeApp(JSON.stringify(report));
  });

  it("exchange-setup.ps1 registers the tenant's app with the object id of its own enterprise application", async () => {
    const res = await fetch(
      `${broker.url}/api/tenants/${own.tenantId}/exchange-setup.ps1?mailboxes=${encodeURIComponent(`queue@${own.domain}`)}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(res.status).toBe(200);
    const script = await res.text();
    expect(script).toContain(`# (app id ${own.appId}, object id ${own.spObjectId})`);
    expect(script).toContain(`Where-Object { $_.AppId -eq '${own.appId}' }`);
    expect(script).toContain(
      `New-ServicePrincipal -AppId '${own.appId}' -ObjectId '${own.spObjectId}' -DisplayName 'Own PBX mail app'`,
    );
    expect(script).toContain(
      `Add-MailboxPermission -Identity 'queue@${own.domain}' -User '${own.spObjectId}' -AccessRights FullAccess -Confirm:$false`,
    );
    expectNoHomeApp(script);
  });

  it("points a missing consent to the tenant's own app, not to a home-app consent link", async () => {
    // The customer removes its own app's enterprise application: the check must not send its admin to consent
    // to the vendor's home app, which this tenant's tokens do not use.
    await control('DELETE', `/_sim/tenants/${own.tenantId}/consents/${own.appId}`);
    try {
      const res = await fetch(`${broker.url}/api/tenants/${own.tenantId}/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const report = (await res.json()) as { checks: Check[] };
      const token = report.checks.find((c) => c.name === 'token:exchange')!;
      expect(token.ok).toBe(false);
      const consent = new URL(/https?:\/\/\S+/.exec(token.remediation ?? '')![0]);
      expect(consent.pathname).toBe(`/${own.tenantId}/adminconsent`);
      expect(consent.searchParams.get('client_id')).toBe(own.appId);
      expect(report.checks.find((c) => c.name === 'exchange-setup')?.detail).toContain(
        `The tenant's own application (app id ${own.appId})`,
      );
      expectNoHomeApp(JSON.stringify(report));
    } finally {
      await control('POST', `/_sim/tenants/${own.tenantId}/consents`, { appId: own.appId });
    }
  });
});
