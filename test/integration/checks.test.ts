/**
 * Live checks on the wire (SPEC.md "Vendor support": `POST /api/tenants/{tenantId}/check`,
 * `GET /api/tenants/{tenantId}/exchange-setup.ps1`), against the simulated Entra ID and Graph: a tenant that
 * consented through the real flow, mailboxes inside and outside an application access policy, consent removed
 * and granted again in the simulator, and Graph failing during a check.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  remediation: string | null;
}
interface Report {
  tenantId: string;
  checkedAt: string;
  status: string;
  checks: Check[];
}

let broker: TestBroker;
let admin: string;
let reader: string;
let tenant: ConsentedTenant;
let appId: string;

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  reader = await broker.staffToken({ user: inject('sandbox').staff.reader });
  appId = inject('sandbox').homeApp.clientId;
  tenant = await consentedTenant(broker.url, admin, 'Check Corp', [
    'exchange-imap',
    'exchange-smtp',
    'graph-mail',
  ]);
  const mailboxes = `/_sim/tenants/${tenant.tenantId}/mailboxes`;
  await control('POST', mailboxes, { address: `queue@${tenant.domain}` });
  await control('POST', mailboxes, { address: `o'neil@${tenant.domain}` });
  // An application access policy (or RBAC scope) that leaves this mailbox out for the home app.
  await control('POST', mailboxes, { address: `ceo@${tenant.domain}`, deniedAppIds: [appId] });
});
afterAll(async () => {
  await broker?.close();
});

function check(tenantId: string, body?: unknown, token = reader) {
  return fetch(`${broker.url}/api/tenants/${tenantId}/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function report(tenantId: string, body?: unknown, token = reader): Promise<Report> {
  const res = await check(tenantId, body, token);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as Report;
}

const byName = (r: Report, name: string) => {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} in ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
};

/** The home app's enterprise application in the simulated tenant, as Entra holds it. */
async function servicePrincipalOf(tenantId: string): Promise<{ objectId: string; displayName: string }> {
  const t = await control<{ servicePrincipals: { appId: string; objectId: string; displayName: string }[] }>(
    'GET',
    `/_sim/tenants/${tenantId}`,
  );
  return t.servicePrincipals.find((s) => s.appId === appId)!;
}

async function initialDomainOf(tenantId: string): Promise<string> {
  const t = await control<{ domains: { name: string; isInitial: boolean }[] }>(
    'GET',
    `/_sim/tenants/${tenantId}`,
  );
  return t.domains.find((d) => d.isInitial)!.name;
}

async function expectProblem(res: Response, status: number): Promise<{ detail: string }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ type: 'about:blank', status });
  return JSON.parse(text) as { detail: string };
}

describe('POST /api/tenants/{tenantId}/check', () => {
  it('reports tokens, roles, organization, mailboxes (reachable / access denied / not found) and the Exchange PowerShell', async () => {
    const sp = await servicePrincipalOf(tenant.tenantId);
    const r = await report(tenant.tenantId, {
      mailboxes: [`queue@${tenant.domain}`, `ceo@${tenant.domain}`, `nobody@${tenant.domain}`],
    });
    console.log(`check output:\n${JSON.stringify(r, null, 2)}`);
    expect(r).toMatchObject({ tenantId: tenant.tenantId, status: 'active' });
    expect(Date.parse(r.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(r.checks.map((c) => c.name)).toEqual([
      'token:exchange',
      'token:graph',
      'roles:exchange-imap',
      'roles:exchange-smtp',
      'roles:graph-mail',
      'roles:broker',
      'organization',
      `mailbox:queue@${tenant.domain}`,
      `mailbox:ceo@${tenant.domain}`,
      `mailbox:nobody@${tenant.domain}`,
      'exchange-setup',
      // The PBX's own logins, by default those of the tenant's profiles (test/integration/protocol-checks.test.ts).
      ...['imap', 'smtp'].flatMap((p) => ['queue', 'ceo', 'nobody'].map((m) => `${p}:${m}@${tenant.domain}`)),
    ]);
    for (const name of [
      'token:exchange',
      'token:graph',
      'roles:exchange-imap',
      'roles:graph-mail',
      'roles:broker',
    ])
      expect(byName(r, name)).toMatchObject({ ok: true, remediation: null });
    expect(byName(r, 'organization')).toMatchObject({ ok: true });
    expect(byName(r, 'organization').detail).toContain('Check Corp; verified domains:');
    expect(byName(r, 'organization').detail).toContain(tenant.domain);

    expect(byName(r, `mailbox:queue@${tenant.domain}`)).toMatchObject({ ok: true, remediation: null });
    expect(byName(r, `mailbox:queue@${tenant.domain}`).detail).toMatch(/^Reachable/);

    const denied = byName(r, `mailbox:ceo@${tenant.domain}`);
    expect(denied.ok).toBe(false);
    expect(denied.detail).toMatch(/application access policy or an RBAC for Applications scope/);
    expect(denied.remediation).toContain(
      `Test-ApplicationAccessPolicy -Identity 'ceo@${tenant.domain}' -AppId '${appId}'`,
    );
    expect(denied.remediation).toContain(
      `Test-ServicePrincipalAuthorization -Identity '${sp.objectId}' -Resource 'ceo@${tenant.domain}'`,
    );

    const missing = byName(r, `mailbox:nobody@${tenant.domain}`);
    expect(missing).toMatchObject({ ok: false });
    expect(missing.detail).toMatch(/^No such mailbox.*ErrorInvalidUser/);

    const setup = byName(r, 'exchange-setup');
    expect(setup.ok).toBe(true);
    expect(setup.remediation).toContain(
      `$AdminUpn = Read-Host -Prompt 'Exchange administrator to sign in as (e.g. admin@${await initialDomainOf(tenant.tenantId)})'`,
    );
    expect(setup.remediation).toContain(
      'Connect-ExchangeOnline -UserPrincipalName $AdminUpn -ShowBanner:$false',
    );
    expect(setup.remediation).toContain(
      `New-ServicePrincipal -AppId '${appId}' -ObjectId '${sp.objectId}' -DisplayName '${sp.displayName}'`,
    );
    expect(setup.remediation).toContain(
      `Add-MailboxPermission -Identity 'queue@${tenant.domain}' -User '${sp.objectId}' -AccessRights FullAccess`,
    );
    expect(setup.remediation).toContain(
      `Add-RecipientPermission -Identity $address -Trustee '${sp.objectId}' -AccessRights SendAs -Confirm:$false`,
    );
    // No EWS profile in this tenant: no EWS allow-list step.
    expect(setup.remediation).not.toContain('EwsAllowedAppIDs');
    expect(setup.remediation).toContain(
      `Test-ServicePrincipalAuthorization -Identity '${sp.objectId}' -Resource 'queue@${tenant.domain}' | Format-Table`,
    );
    // For pasting into a console: no parameter block, no change of the session's error preference.
    expect(setup.remediation).not.toContain('param(');
    expect(setup.remediation).not.toContain('$ErrorActionPreference');
  });

  it('tells a missing Mail permission apart from an access policy by the token roles', async () => {
    const imapOnly = await consentedTenant(broker.url, admin, 'Imap Only Ltd', ['exchange-imap']);
    // Only the Exchange roles and the broker's own: no Mail.* in Graph.
    await control('DELETE', `/_sim/tenants/${imapOnly.tenantId}/consents/${appId}`);
    await control('POST', `/_sim/tenants/${imapOnly.tenantId}/consents`, {
      appId,
      roles: {
        '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'],
        '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
      },
    });
    await control('POST', `/_sim/tenants/${imapOnly.tenantId}/mailboxes`, {
      address: `desk@${imapOnly.domain}`,
    });
    const r = await report(imapOnly.tenantId, { mailboxes: [`desk@${imapOnly.domain}`] });
    const probe = byName(r, `mailbox:desk@${imapOnly.domain}`);
    expect(probe.ok).toBe(false);
    expect(probe.detail).toMatch(/no Mail permission in Microsoft Graph/);
    expect(probe.remediation).not.toContain('Test-ApplicationAccessPolicy');
    expect(byName(r, 'exchange-setup').ok).toBe(true);
  });

  it('marks a tenant whose consent was removed revoked at once, explains AADSTS7000229 with a fresh consent link, and active again after a new consent', async () => {
    const gone = await consentedTenant(broker.url, admin, 'Revoked Corp', ['exchange-imap']);
    await control('DELETE', `/_sim/tenants/${gone.tenantId}/consents/${appId}`);

    // Broker.Read: the finding and the advice, but no consent link (creating an onboarding is a change).
    const read = await report(gone.tenantId);
    expect(read.status).toBe('revoked');
    expect(byName(read, 'token:exchange').remediation).toContain('Broker.Admin');
    expect(JSON.stringify(read)).not.toContain('/connect/');

    const r = await report(gone.tenantId, undefined, admin);
    expect(r.status).toBe('revoked');
    const token = byName(r, 'token:exchange');
    expect(token.ok).toBe(false);
    expect(token.detail).toContain('AADSTS7000229');
    expect(token.detail).toContain('consent has been removed');
    const link = /(http:\/\/localhost:7071\/connect\/[A-Za-z0-9_-]{22})$/.exec(token.remediation ?? '')?.[1];
    expect(link).toBeDefined();
    // The link is a live consent landing page for this tenant's customer.
    const landing = await fetch(link!.replace('http://localhost:7071', broker.url));
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('REF-revokedcorp');
    expect(byName(r, 'exchange-setup')).toMatchObject({ ok: false });

    const view = await (
      await fetch(`${broker.url}/api/tenants/${gone.tenantId}`, {
        headers: { authorization: `Bearer ${reader}` },
      })
    ).json();
    expect(view).toMatchObject({ status: 'revoked', lastError: { code: 'AADSTS7000229' } });
    const script = await fetch(`${broker.url}/api/tenants/${gone.tenantId}/exchange-setup.ps1`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    await expectProblem(script, 409);

    await control('POST', `/_sim/tenants/${gone.tenantId}/consents`, { appId });
    const again = await report(gone.tenantId);
    expect(again.status).toBe('active');
    expect(again.checks.every((c) => c.ok)).toBe(true);
    const audit = (await (
      await fetch(`${broker.url}/api/audit?tenantId=${gone.tenantId}`, {
        headers: { authorization: `Bearer ${reader}` },
      })
    ).json()) as { items: { action: string; details: Record<string, unknown> }[] };
    const actions = audit.items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['consent.revoked', 'consent.restored', 'tenant.checked']),
    );
    expect(actions.indexOf('consent.revoked')).toBeLessThan(actions.indexOf('consent.restored'));
    const checks = audit.items.filter((e) => e.action === 'tenant.checked');
    // The reader's check found the revocation; the admin's check after it made the consent link.
    const revokingCheck = checks.find((e) => e.details.statusBefore === 'active')!;
    expect(revokingCheck.details).toMatchObject({ statusAfter: 'revoked', reconsentOnboardingId: null });
    const linkingCheck = checks.find(
      (e) => e.details.statusBefore === 'revoked' && e.details.statusAfter === 'revoked',
    )!;
    expect(linkingCheck.details).toMatchObject({
      failed: [
        'token:exchange',
        'token:graph',
        'roles:exchange-imap',
        'roles:broker',
        'organization',
        'exchange-setup',
      ],
      reconsentOnboardingId: expect.any(String),
    });
    expect(JSON.stringify(audit)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    // The new enterprise application's object id is recorded.
    const after = (await (
      await fetch(`${broker.url}/api/tenants/${gone.tenantId}`, {
        headers: { authorization: `Bearer ${reader}` },
      })
    ).json()) as { servicePrincipalId: string; lastError: unknown };
    expect(after).toMatchObject({
      servicePrincipalId: (await servicePrincipalOf(gone.tenantId)).objectId,
      lastError: null,
    });
  });

  it('with Graph answering 503, fails only the Graph checks and changes nothing', async () => {
    const g = await consentedTenant(broker.url, admin, 'Graph Outage Inc', ['exchange-imap', 'graph-mail']);
    await control('POST', `/_sim/tenants/${g.tenantId}/mailboxes`, { address: `queue@${g.domain}` });
    const fault = { target: 'graph', kind: 'status', status: 503, retryAfterSeconds: 30, count: 1 };
    // Faults are shared by every test file: each one here matches only this tenant's requests, or is used up at once.
    await control('POST', '/_sim/faults', { ...fault, pathContains: `/users/queue%40${g.domain}/` });
    await control('POST', '/_sim/faults', { ...fault, pathContains: '/v1.0/organization' });
    const r = await report(g.tenantId, { mailboxes: [`queue@${g.domain}`] });
    expect(r.status).toBe('active');
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(['organization', `mailbox:queue@${g.domain}`]);
    expect(byName(r, 'organization')).toMatchObject({
      detail: 'Microsoft Graph (or Entra ID, for its token) could not be reached to read the organization.',
      remediation: 'Try the check again in 30 seconds.',
    });
    expect(byName(r, 'token:graph').ok).toBe(true);
    expect(byName(r, 'roles:graph-mail').ok).toBe(true);
    expect(byName(r, 'exchange-setup').ok).toBe(true);
  });

  it('with Entra ID answering 503 for one resource, fails that token check, reads the other, and changes nothing', async () => {
    const e = await consentedTenant(broker.url, admin, 'Entra Outage Inc', ['exchange-imap', 'graph-mail']);
    // Only this tenant's Graph token requests; enough for MSAL's own attempts within the check.
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 20,
      pathContains: `/${e.tenantId}/oauth2/v2.0/token`,
      bodyContains: 'graph.microsoft.com',
      count: 3,
    });
    const r = await report(e.tenantId);
    expect(r.status).toBe('active');
    expect(byName(r, 'token:exchange').ok).toBe(true);
    expect(byName(r, 'token:graph')).toMatchObject({
      ok: false,
      detail:
        'Microsoft Entra ID could not be reached for a Microsoft Graph token; nothing was concluded about the consent.',
      remediation: expect.stringMatching(/^Try the check again in \d+ seconds\.$/),
    });
    expect(byName(r, 'roles:exchange-imap')).toMatchObject({ ok: true });
    expect(byName(r, 'roles:graph-mail')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('could not be read'),
    });
    expect(byName(r, 'organization')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('no Microsoft Graph token'),
    });
    expect(byName(r, 'exchange-setup').ok).toBe(true);
  });

  it('refuses bad input with problem+json, naming the index of a bad address without echoing it', async () => {
    await expectProblem(await check('not-a-guid'), 400);
    const unknown = await expectProblem(await check('11111111-2222-4333-8444-555555555555'), 404);
    expect(unknown.detail).toContain('11111111-2222-4333-8444-555555555555');
    const bad = await expectProblem(
      await check(tenant.tenantId, { mailboxes: [`queue@${tenant.domain}`, 'a@x;Remove-Mailbox'] }),
      400,
    );
    expect(bad.detail).toMatch(/^mailboxes\[1\] is not a valid email address/);
    expect(JSON.stringify(bad)).not.toContain('Remove-Mailbox');
    await expectProblem(await check(tenant.tenantId, { mailboxes: ['a@x.example\nRemove-Mailbox'] }), 400);
    const many = await expectProblem(
      await check(tenant.tenantId, { mailboxes: Array.from({ length: 21 }, (_, i) => `m${i}@x.example`) }),
      400,
    );
    expect(many.detail).toContain('at most 20');
    await expectProblem(await check(tenant.tenantId, { mailboxes: 'a@x.example' }), 400);
    await expectProblem(await check(tenant.tenantId, { colour: 'blue' }), 400);
    const noToken = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/check`, { method: 'POST' });
    await expectProblem(noToken, 401);
    await expectProblem(await check(tenant.tenantId, undefined, await broker.staffToken({ roles: [] })), 403);
  });
});

describe('GET /api/tenants/{tenantId}/exchange-setup.ps1', () => {
  const script = (tenantId: string, query = '') =>
    fetch(`${broker.url}/api/tenants/${tenantId}/exchange-setup.ps1${query}`, {
      headers: { authorization: `Bearer ${reader}` },
    });

  it('answers the script as text/plain, filled in with the real object id, app id and quoted mailboxes', async () => {
    const sp = await servicePrincipalOf(tenant.tenantId);
    const res = await script(
      tenant.tenantId,
      `?mailboxes=${encodeURIComponent(`queue@${tenant.domain},o'neil@${tenant.domain}`)}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="exchange-setup-${tenant.tenantId}.ps1"`,
    );
    const text = await res.text();
    expect(text).toMatch(/^# Exchange Online setup for /);
    expect(text).toContain(`# Tenant:    Check Corp (${tenant.tenantId})`);
    expect(text).toMatch(/# Generated: \d{4}-\d\d-\d\dT[\d:.]+Z by Consent Broker/);
    expect(text).toContain('    [Parameter(Mandatory)] [string] $AdminUpn,');
    expect(text).toContain(
      `# The Exchange administrator to sign in as, e.g. admin@${await initialDomainOf(tenant.tenantId)}`,
    );
    expect(text).toContain('Connect-ExchangeOnline -UserPrincipalName $AdminUpn -ShowBanner:$false');
    expect(text).toContain(
      `New-ServicePrincipal -AppId '${appId}' -ObjectId '${sp.objectId}' -DisplayName '${sp.displayName}'`,
    );
    expect(text).toContain(
      `Add-MailboxPermission -Identity 'o''neil@${tenant.domain}' -User '${sp.objectId}' -AccessRights FullAccess`,
    );
    expect(text).toContain(
      `Add-RecipientPermission -Identity $address -Trustee '${sp.objectId}' -AccessRights SendAs -Confirm:$false`,
    );
    expect(text).toContain(`PrimarySmtpAddress -eq ''o''''neil@${tenant.domain}''`);
    expect(text).toContain("[ValidateSet('Rbac', 'AccessPolicy', 'None')] [string] $Scoping = 'Rbac',");
    expect(text.trimEnd()).toMatch(
      new RegExp(
        `Test-ApplicationAccessPolicy -Identity 'o''neil@${tenant.domain.replace(/\./g, '\\.')}' -AppId '${appId}' \\| Format-List\\n}$`,
      ),
    );
  });

  it('takes the default -Scoping from ?scoping=, and refuses another value', async () => {
    const text = await (
      await script(tenant.tenantId, `?scoping=accessPolicy&mailboxes=queue@${tenant.domain}`)
    ).text();
    expect(text).toContain(
      "[ValidateSet('Rbac', 'AccessPolicy', 'None')] [string] $Scoping = 'AccessPolicy',",
    );
    await expectProblem(await script(tenant.tenantId, '?scoping=none'), 400);
  });

  it('refuses an invalid address (400 problem+json), never echoing it into the script', async () => {
    for (const bad of [
      `queue@${tenant.domain};Remove-Mailbox`,
      `queue@${tenant.domain}\nRemove-Mailbox -Identity x`,
    ]) {
      const res = await script(tenant.tenantId, `?mailboxes=${encodeURIComponent(bad)}`);
      const body = await expectProblem(res, 400);
      expect(body.detail).toMatch(/^mailboxes\[0\] is not a valid email address/);
      expect(JSON.stringify(body)).not.toContain('Remove-Mailbox');
    }
    const many = Array.from({ length: 101 }, (_, i) => `m${i}@x.example`).join(',');
    expect((await expectProblem(await script(tenant.tenantId, `?mailboxes=${many}`), 400)).detail).toContain(
      'at most 100',
    );
    await expectProblem(await script(tenant.tenantId, '?mailbox=a@x.example'), 400);
    await expectProblem(await script(tenant.tenantId, '?mailboxes=a@x.example&mailboxes=b@x.example'), 400);
    await expectProblem(await script('not-a-guid'), 400);
    await expectProblem(await script('11111111-2222-4333-8444-555555555555'), 404);
    await expectProblem(await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/exchange-setup.ps1`), 401);
  });
});
