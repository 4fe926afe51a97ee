/**
 * A deployment of three bundles (docs/examples/bundles.profiles.json: mail = the home app, calendar, ews), each
 * an app registration of its own in the simulated vendor tenant with just its bundle's permissions: the consent
 * link takes the admin through exactly the apps the onboarding's profiles need, one after another, the tenant
 * records what each app was granted, and each token comes from its profile's app with that app's roles only.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { simulatedPermissions } from '../../local/bundle-apps.js';
import { loadProfiles, type Bundle } from '../../src/profiles/profiles.js';
import { homeAppRedirectUris } from '../../src/profiles/registration.js';
import { basicAuth } from '../helpers/appliances.js';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { activeGrantWithHandle, grantFixture, refreshWithHandle } from '../helpers/mailbox-grant.js';
import { control, tenantWithAdmin } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const EXAMPLE = 'docs/examples/bundles.profiles.json';
const EXCHANGE = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';

interface App {
  readonly clientId: string;
  readonly secret: string;
}
const apps: Record<string, App> = {};
let broker: TestBroker;
let staff: string;
/** The tenant consented to the mail and calendar apps (the second test). */
let mailcal: string;

/** Registers a bundle's app in the vendor tenant as infra/ would: its bundle's permissions, a secret. */
async function registerApp(bundle: Bundle): Promise<App> {
  const appId = randomUUID();
  await control('POST', '/_sim/apps', {
    appId,
    displayName: `Northwind ${bundle.title}`,
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: homeAppRedirectUris('http://localhost:7071'),
    identifierUris: [`api://${appId}`],
    appRoles: bundle.home ? ['Broker.Read', 'Broker.Admin'] : [],
    groupMembershipClaims: 'DirectoryRole',
    idTokenOptionalClaims: ['acct'],
    ...simulatedPermissions(await loadProfiles(EXAMPLE), bundle),
  });
  const { value } = await control<{ value: string }>('POST', `/_sim/apps/${appId}/secrets`, {});
  return { clientId: appId, secret: value };
}

beforeAll(async () => {
  const profiles = await loadProfiles(EXAMPLE);
  for (const bundle of profiles.bundles) apps[bundle.name] = await registerApp(bundle);
  broker = await startTestBroker({
    BROKER_PROFILES_FILE: EXAMPLE,
    HOME_APP_CLIENT_ID: apps.mail!.clientId,
    HOME_APP_CLIENT_SECRET: apps.mail!.secret,
    BUNDLE_CALENDAR_CLIENT_ID: apps.calendar!.clientId,
    BUNDLE_CALENDAR_CLIENT_SECRET: apps.calendar!.secret,
    BUNDLE_EWS_CLIENT_ID: apps.ews!.clientId,
    BUNDLE_EWS_CLIENT_SECRET: apps.ews!.secret,
  });
  staff = await broker.staffToken({ appId: apps.mail!.clientId, roles: ['Broker.Admin'] });
});
afterAll(async () => {
  await broker?.close();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** An onboarding for `profiles`, consented by the tenant's admin: every consent page approved as it comes. */
async function consent(profiles: string[], tenant: { id: string; admin: string }) {
  const onboarding = await api('POST', '/api/onboardings', { customerRef: `REF-${tenant.id}`, profiles });
  expect(onboarding.status).toBe(201);
  const browser = new ConsentBrowser(broker.url);
  const landing = await browser.open(onboarding.body.consentUrl as string);
  expect(landing.status).toBe(200);
  let page: Visit = await browser.open(`${onboarding.body.consentUrl as string}/go`);
  const consentPages: string[] = [];
  while (page.url.includes('/adminconsent')) {
    consentPages.push(page.url);
    page = await browser.submit(page, { user: tenant.admin, decision: 'approve' });
  }
  return {
    landing: landing.body,
    page,
    consentPages,
    clientIds: consentPages.map((u) => new URL(u).searchParams.get('client_id')),
  };
}

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { appid?: string; roles?: string[] };

async function token(appliance: { clientId: string; clientSecret: string }, scope: string) {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(appliance), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('three bundles, three apps', () => {
  it('sends an IMAP-only customer through the mail app alone, which grants IMAP and not Graph mail', async () => {
    const tenant = await tenantWithAdmin('Bundle Imaponly');
    const { landing, page, clientIds, consentPages } = await consent(['exchange-imap'], tenant);
    // The landing page lists the mail app's permissions, and nothing of the other apps.
    expect(landing).toContain('IMAP.AccessAsApp');
    expect(landing).not.toContain('Mail.ReadWrite');
    expect(landing).not.toContain('full_access_as_app');
    expect(landing).not.toContain('App 1 of');
    expect(clientIds).toEqual([apps.mail!.clientId]);
    expect(new URL(consentPages[0]!).pathname).toBe('/organizations/v2.0/adminconsent');
    expect(page.status).toBe(200);
    const record = (await api('GET', `/api/tenants/${tenant.id}`)).body;
    expect(record.status).toBe('active');
    expect(record.grantedRoles).toEqual({
      [EXCHANGE]: ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp'],
      [GRAPH]: ['Organization.Read.All'],
    });
    expect(record.displayName).toBe('Bundle Imaponly');
  });

  it('takes a customer of IMAP and calendars through the mail app, then the calendar app of the same tenant, and vends each from its app', async () => {
    const tenant = await tenantWithAdmin('Bundle Mailcal');
    mailcal = tenant.id;
    const { landing, page, clientIds, consentPages } = await consent(
      ['exchange-imap', 'graph-calendar'],
      tenant,
    );
    expect(landing).toContain('approve 2 apps');
    expect(landing).toContain('App 1 of 2: Mail over IMAP, POP and SMTP');
    expect(landing).toContain('App 2 of 2: Mail, calendars, contacts and presence through Microsoft Graph');
    expect(landing).not.toContain('full_access_as_app');
    expect(clientIds).toEqual([apps.mail!.clientId, apps.calendar!.clientId]);
    // The second app is asked at the tenant the first consent came back from.
    expect(new URL(consentPages[1]!).pathname).toBe(`/${tenant.id}/v2.0/adminconsent`);
    expect(page.status).toBe(200);
    const record = (await api('GET', `/api/tenants/${tenant.id}`)).body;
    expect(record.status).toBe('active');
    expect((record.grantedRoles as Record<string, string[]>)[EXCHANGE]).not.toContain('full_access_as_app');
    // The record shows what each bundle's app was granted.
    const bundles = record.bundles as {
      bundle: string;
      clientId: string;
      grantedRoles: Record<string, string[]>;
    }[];
    expect(bundles.map((b) => [b.bundle, b.clientId])).toEqual([
      ['mail', apps.mail!.clientId],
      ['calendar', apps.calendar!.clientId],
    ]);
    expect(bundles[0]!.grantedRoles[EXCHANGE]).toEqual([
      'IMAP.AccessAsApp',
      'POP.AccessAsApp',
      'SMTP.SendAsApp',
    ]);
    expect(bundles[1]!.grantedRoles[GRAPH]).toContain('Calendars.ReadWrite');
    expect(bundles[1]!.grantedRoles[EXCHANGE]).toBeUndefined();

    const appliance = await api('POST', '/api/appliances', {
      customerRef: 'REF-mailcal',
      tenantId: tenant.id,
      profiles: ['exchange-imap', 'graph-calendar'],
      auth: { method: 'client_secret' },
    });
    expect(appliance.status).toBe(201);
    const creds = appliance.body as { clientId: string; clientSecret: string };
    const exchange = await token(creds, EXCHANGE);
    expect(exchange.status).toBe(200);
    expect(claims(exchange.body.access_token!)).toMatchObject({
      appid: apps.mail!.clientId,
      roles: ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp'],
    });
    const graph = await token(creds, GRAPH);
    expect(graph.status).toBe(200);
    const graphClaims = claims(graph.body.access_token!);
    expect(graphClaims.appid).toBe(apps.calendar!.clientId);
    // The calendar app's Graph roles, none of the mail app's (which has Organization.Read.All alone there).
    const profiles = await loadProfiles(EXAMPLE);
    const calendarRoles = simulatedPermissions(profiles, profiles.bundles[1]!).requiredRoles[
      '00000003-0000-0000-c000-000000000000'
    ]!;
    expect([...graphClaims.roles!].sort()).toEqual([...calendarRoles].sort());
  });

  it("checks each app's tokens and roles for a tenant of two bundles", async () => {
    const res = await api('POST', `/api/tenants/${mailcal}/check`, {});
    expect(res.status).toBe(200);
    const checks = res.body.checks as { name: string; ok: boolean | null; detail: string }[];
    const byName = new Map(checks.map((c) => [c.name, c]));
    for (const name of ['token:mail:exchange', 'token:mail:graph', 'token:calendar:graph'])
      expect(byName.get(name), name).toMatchObject({ ok: true });
    expect(byName.has('token:ews:exchange')).toBe(false);
    for (const name of ['roles:exchange-imap', 'roles:graph-calendar', 'roles:broker'])
      expect(byName.get(name), name).toMatchObject({ ok: true });
    expect(res.body.status).toBe('active');
    expect(byName.get('token:calendar:graph')!.detail).toContain('Calendars.ReadWrite');
  });

  it("writes exchange-setup.ps1 for the app of the tenant's Exchange profiles", async () => {
    const tenant = await tenantWithAdmin('Bundle Ewsonly');
    const { clientIds } = await consent(['exchange-ews'], tenant);
    expect(clientIds).toEqual([apps.ews!.clientId]);
    const res = await fetch(`${broker.url}/api/tenants/${tenant.id}/exchange-setup.ps1`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    const script = await res.text();
    expect(res.status, script.slice(0, 300)).toBe(200);
    expect(script).toContain(apps.ews!.clientId);
    expect(script).not.toContain(apps.mail!.clientId);
  });

  it('recognises a customer who consented to the calendar app alone (its Graph token reads the organization)', async () => {
    const tenant = await tenantWithAdmin('Bundle Calonly');
    const { clientIds } = await consent(['graph-calendar'], tenant);
    expect(clientIds).toEqual([apps.calendar!.clientId]);
    const record = (await api('GET', `/api/tenants/${tenant.id}`)).body;
    expect(record).toMatchObject({ status: 'active', displayName: 'Bundle Calonly' });
    expect(record.verifiedDomains).toContain('bundlecalonly.example');
  });

  it('refuses an appliance whose profiles reach one resource through two apps, naming them', async () => {
    const res = await api('POST', '/api/appliances', {
      customerRef: 'REF-split',
      profiles: ['exchange-imap', 'exchange-ews'],
      auth: { method: 'client_secret' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(
      'exchange-imap (bundle mail) and exchange-ews (bundle ews) reach Office 365 Exchange Online through different apps',
    );
  });

  it("signs a mailbox user in to the calendar app for the calendar bundle's delegated profile, and refuses a grant across bundles", async () => {
    const f = await grantFixture(broker.url, staff, mailcal, ['user-calendar-contacts', 'user-imap']);
    const across = await fetch(`${broker.url}/api/tenants/${mailcal}/mailbox-grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        applianceId: f.applianceId,
        profiles: ['user-calendar-contacts', 'user-imap'],
        mailbox: 'desk@bundlemailcal.example',
      }),
    });
    expect(across.status).toBe(400);
    expect(await across.text()).toContain('are signed in to through different apps');

    const { handle } = await activeGrantWithHandle(f, 'desk@bundlemailcal.example', [
      'user-calendar-contacts',
    ]);
    const { status, body } = await refreshWithHandle(
      f,
      handle,
      'https://graph.microsoft.com/Calendars.ReadWrite',
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(claims(body.access_token!).appid).toBe(apps.calendar!.clientId);
  });

  it('refuses a second consent that comes back from another tenant than the first', async () => {
    const tenant = await tenantWithAdmin('Bundle Firsttenant');
    const other = await tenantWithAdmin('Bundle Othertenant');
    const onboarding = await api('POST', '/api/onboardings', {
      customerRef: 'REF-switch',
      profiles: ['exchange-imap', 'exchange-ews'],
    });
    const browser = new ConsentBrowser(broker.url);
    const first = await browser.open(`${onboarding.body.consentUrl as string}/go`);
    const second = await browser.submit(first, { user: tenant.admin, decision: 'approve' });
    expect(new URL(second.url).searchParams.get('client_id')).toBe(apps.ews!.clientId);
    // The callback of the second app names the other tenant, as an admin of that tenant consenting would.
    const state = new URL(second.url).searchParams.get('state')!;
    await control('POST', `/_sim/tenants/${other.id}/consents`, { appId: apps.ews!.clientId });
    const forged = await browser.open(
      `http://localhost:7071/consent/callback?tenant=${other.id}&admin_consent=True&state=${state}`,
    );
    expect(forged.status).toBe(403);
    expect((await api('GET', `/api/tenants/${other.id}`)).status).toBe(404);
    expect((await api('GET', `/api/tenants/${tenant.id}`)).status).toBe(404);
  });

  it("marks a tenant degraded, naming the bundle, when one bundle's consent is removed, and keeps the others' tokens", async () => {
    const tenant = await tenantWithAdmin('Bundle Halfgone');
    await consent(['exchange-imap', 'graph-calendar'], tenant);
    const appliance = await api('POST', '/api/appliances', {
      customerRef: 'REF-halfgone',
      tenantId: tenant.id,
      profiles: ['exchange-imap', 'graph-calendar'],
      auth: { method: 'client_secret' },
    });
    const creds = appliance.body as { clientId: string; clientSecret: string };
    expect((await token(creds, GRAPH)).status).toBe(200);

    // The customer's admin deletes the calendar app's enterprise application: that consent is gone.
    await control('DELETE', `/_sim/tenants/${tenant.id}/consents/${apps.calendar!.clientId}`);
    const check = await api('POST', `/api/tenants/${tenant.id}/check`, {});
    expect(check.status).toBe(200);
    const record = (await api('GET', `/api/tenants/${tenant.id}`)).body as {
      status: string;
      lastError: { code: string; message: string } | null;
      missingRoles: Record<string, string[]>;
      grantedRoles: Record<string, string[]>;
    };
    expect(record.status).toBe('degraded');
    expect(record.lastError?.message).toContain('bundle "calendar"');
    expect(record.lastError?.code).toMatch(/^AADSTS/);
    expect(Object.keys(record.missingRoles)).toContain('graph-calendar');
    expect(record.missingRoles['exchange-imap']).toBeUndefined();
    expect(record.grantedRoles[EXCHANGE]).toEqual(['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp']);

    // The mail app's consent holds: its tokens still come; the calendar app's profile gets a refusal naming why.
    expect((await token(creds, EXCHANGE)).status).toBe(200);
    const graph = await token(creds, GRAPH);
    expect(graph.status).toBe(400);
    expect(graph.body.error).toMatch(/invalid_grant|unauthorized_client/);

    // The whole consent gone: revoked, as with one app.
    await control('DELETE', `/_sim/tenants/${tenant.id}/consents/${apps.mail!.clientId}`);
    await api('POST', `/api/tenants/${tenant.id}/check`, {});
    expect(((await api('GET', `/api/tenants/${tenant.id}`)).body as { status: string }).status).toBe(
      'revoked',
    );
  });
});
