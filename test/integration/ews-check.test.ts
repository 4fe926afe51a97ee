/**
 * The live EWS check on the wire (`POST /api/tenants/{tenantId}/check` for a tenant whose profiles include
 * `exchange-ews`): the broker makes a real EWS GetFolder with the vended Exchange Online token against the EWS
 * simulator (simulators/graph/ews.ts) and tells apart allowed, blocked by the tenant's EWS settings (the default
 * since 1 Oct 2026), and no access to the mailbox; without a mailbox it says the probe needs one.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

interface Check {
  name: string;
  ok: boolean | null;
  detail: string;
  remediation: string | null;
}
interface Report {
  status: string;
  checks: Check[];
}

let broker: TestBroker;
let admin: string;
let reader: string;
let tenant: ConsentedTenant;
let appId: string;

const RETIREMENT =
  'Since 1 October 2026 Exchange Online blocks EWS in a tenant unless the tenant allows it (EWSEnabled set to True and the app on its EWS allow-list, EWSAllowedAppIDs); on 1 April 2027 EWS in Exchange Online ends for good, so the PBX must use Microsoft Graph by then.';

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  reader = await broker.staffToken({ user: inject('sandbox').staff.reader });
  appId = inject('sandbox').homeApp.clientId;
  tenant = await consentedTenant(broker.url, admin, 'Ews Check Corp', ['exchange-ews', 'graph-mail']);
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, { address: `desk@${tenant.domain}` });
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, {
    address: `ceo@${tenant.domain}`,
    deniedAppIds: [appId],
  });
});
afterAll(async () => {
  await broker?.close();
});

async function report(mailboxes?: string[]): Promise<{ report: Report; text: string }> {
  const res = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
    body: JSON.stringify(mailboxes ? { mailboxes } : {}),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { report: JSON.parse(text) as Report, text };
}

function ewsItems(r: Report): Check[] {
  return r.checks.filter((c) => c.name === 'ews' || c.name.startsWith('ews:'));
}

/** The union-preserving allow-list step of src/support/exchange-setup.ts `ewsAllowListSteps`, for this app. */
function expectAllowListStep(remediation: string | null): void {
  expect(remediation).toContain('$ewsConfig = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy');
  expect(remediation).toContain(`if ($ewsAllowed -contains '${appId}') {`);
  expect(remediation).toContain(
    `Set-OrganizationConfig -EwsAllowedAppIDs ((@($ewsAllowed) + '${appId}') -join ',') -Confirm:$false`,
  );
  expect(remediation).toContain('Set-OrganizationConfig -EwsEnabled $true -Confirm:$false');
  expect(remediation).toContain('it keeps every app id already on the list');
}

/** No JWT-shaped string anywhere in the answer. */
function expectNoToken(text: string): void {
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]*/);
}

describe('POST /api/tenants/{tenantId}/check: the live EWS probe', () => {
  it('says the EWS probe needs a mailbox when none is given (ok: null)', async () => {
    const { report: r, text } = await report();
    const items = ewsItems(r);
    console.log(`ews item without a mailbox:\n${JSON.stringify(items, null, 2)}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: 'ews', ok: null });
    expect(items[0]!.detail).toMatch(/^Not probed: the EWS probe opens a mailbox's inbox as the app/);
    expect(items[0]!.detail).toContain(RETIREMENT);
    expect(items[0]!.remediation).toContain(`(app id ${appId})`);
    expectAllowListStep(items[0]!.remediation);
    expectNoToken(text);
  });

  it('is blocked by default (EwsEnabled not configured), with the allow-list step for this app', async () => {
    const { report: r, text } = await report([`desk@${tenant.domain}`]);
    const item = ewsItems(r)[0]!;
    console.log(`ews item, blocked:\n${JSON.stringify(item, null, 2)}`);
    expect(item).toMatchObject({ name: `ews:desk@${tenant.domain}`, ok: false });
    expect(item.detail).toBe(
      `EWS is blocked for the vendor application (app id ${appId}) by the tenant's EWS settings: Exchange Online answered HTTP 403 before opening any mailbox, which is how it refuses an app when EWSEnabled is not True or the app is not on EWSAllowedAppIDs. ${RETIREMENT}`,
    );
    expectAllowListStep(item.remediation);
    // The other checks are unchanged by the EWS outcome.
    expect(r.checks.find((c) => c.name === 'roles:exchange-ews')).toMatchObject({ ok: true });
    expect(r.status).toBe('active');
    expectNoToken(text);
  });

  it('is allowed once EwsEnabled is true and the home app is on EwsAllowedAppIDs', async () => {
    await control('PUT', `/_sim/tenants/${tenant.tenantId}/organization-config`, {
      ewsEnabled: true,
      ewsAllowedAppIds: ['aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', appId],
    });
    const { report: r, text } = await report([`desk@${tenant.domain}`]);
    const item = ewsItems(r)[0]!;
    console.log(`ews item, allowed:\n${JSON.stringify(item, null, 2)}`);
    expect(item).toMatchObject({ name: `ews:desk@${tenant.domain}`, ok: true });
    expect(item.detail).toBe(
      `EWS works for the vendor application (app id ${appId}) now: Exchange Online opened the inbox of this mailbox over EWS. ${RETIREMENT}`,
    );
    expect(item.remediation).toMatch(/^Nothing to change now\./);
    expect(item.remediation).toContain('move the PBX to Microsoft Graph before 1 April 2027');
    expectAllowListStep(item.remediation);
    expectNoToken(text);
  });

  it('has no mailbox access for an unknown mailbox, and for one an access policy leaves out', async () => {
    const { report: r, text } = await report([
      `nobody@${tenant.domain}`,
      `ceo@${tenant.domain}`,
      `desk@${tenant.domain}`,
    ]);
    const [unknown, scoped, desk] = ewsItems(r);
    console.log(`ews items, no mailbox access:\n${JSON.stringify([unknown, scoped], null, 2)}`);
    expect(unknown).toMatchObject({ name: `ews:nobody@${tenant.domain}`, ok: false });
    expect(unknown!.detail).toBe(
      `EWS is allowed for the vendor application (app id ${appId}) in this tenant, but this address has no mailbox (ErrorNonExistentMailbox). ${RETIREMENT}`,
    );
    expect(unknown!.remediation).toMatch(/^Check the address/);
    expect(scoped).toMatchObject({ name: `ews:ceo@${tenant.domain}`, ok: false });
    expect(scoped!.detail).toContain('but not for this mailbox (ErrorAccessDenied)');
    expect(scoped!.remediation).toContain(
      `Test-ApplicationAccessPolicy -Identity 'ceo@${tenant.domain}' -AppId '${appId}'`,
    );
    expect(scoped!.remediation).toContain("New-ManagementRoleAssignment -Role 'Application EWS.AccessAsApp'");
    expect(desk).toMatchObject({ ok: true });
    expectNoToken(text);
  });

  it('adds no EWS item for a tenant without exchange-ews', async () => {
    const imap = await consentedTenant(broker.url, admin, 'No Ews Ltd', ['exchange-imap']);
    const res = await fetch(`${broker.url}/api/tenants/${imap.tenantId}/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mailboxes: [`desk@${imap.domain}`] }),
    });
    const r = (await res.json()) as Report;
    expect(ewsItems(r)).toEqual([]);
  });
});
