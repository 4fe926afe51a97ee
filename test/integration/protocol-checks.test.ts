/**
 * "Test Connection" on the wire (src/support/checks-protocols.ts): `POST /api/tenants/{tenantId}/check` with
 * `protocols` logs in to each mailbox over IMAP, POP3 and SMTP as the PBX would, against the sandbox's Exchange
 * stand-ins (simulators/mail/), and turns each simulated fault into its cause and the PowerShell that fixes it
 * for this tenant and mailbox: SMTP AUTH off for the tenant or the mailbox, IMAP off for the mailbox, the mailbox
 * left out by an access policy (or not granted), the app not registered in Exchange, a mailbox that does not exist.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let tenant: ConsentedTenant;
let desk: string;

interface Report {
  checks: { name: string; ok: boolean | null; cause?: string; detail: string; remediation: string | null }[];
}

async function check(mailboxes: string[], protocols?: string[]): Promise<Report> {
  const res = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mailboxes, ...(protocols ? { protocols } : {}) }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}
const find = (r: Report, name: string) => r.checks.find((c) => c.name === name)!;
const mailbox = (address: string, body: Record<string, unknown>) =>
  control('PATCH', `/_sim/tenants/${tenant.tenantId}/mailboxes/${encodeURIComponent(address)}`, body);

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  tenant = await consentedTenant(broker.url, admin, 'Test Connection Ltd', [
    'exchange-imap',
    'exchange-pop',
    'exchange-smtp',
  ]);
  desk = `desk@${tenant.domain}`;
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, { address: desk });
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

describe('Test Connection: the PBX’s logins, each answer turned into its fix', () => {
  it('logs in over IMAP, POP3 and SMTP by default (the tenant’s profiles), each accepted', async () => {
    const r = await check([desk]);
    for (const p of ['imap', 'pop', 'smtp'])
      expect(find(r, `${p}:${desk}`), p).toMatchObject({ ok: true, cause: 'ok', remediation: null });
    expect(find(r, `imap:${desk}`).detail).toContain('EXAMINE completed');
  });

  it('SMTP AUTH off for the tenant, then for the mailbox: the cause named, the exact PowerShell', async () => {
    await control('PUT', `/_sim/tenants/${tenant.tenantId}/transport-config`, {
      smtpClientAuthenticationDisabled: true,
    });
    const t = find(await check([desk], ['smtp']), `smtp:${desk}`);
    expect(t).toMatchObject({ ok: false, cause: 'smtpAuthDisabledForTenant' });
    expect(t.detail).toContain('5.7.139');
    expect(t.remediation).toContain(
      `Set-CASMailbox -Identity '${desk}' -SmtpClientAuthenticationDisabled $false`,
    );
    expect(t.remediation).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $false');
    await control('PUT', `/_sim/tenants/${tenant.tenantId}/transport-config`, {
      smtpClientAuthenticationDisabled: false,
    });
    await mailbox(desk, { smtpClientAuthenticationDisabled: true });
    const m = find(await check([desk], ['smtp']), `smtp:${desk}`);
    expect(m).toMatchObject({ ok: false, cause: 'smtpAuthDisabledForMailbox' });
    expect(m.remediation).toBe(
      `An Exchange administrator runs:\nSet-CASMailbox -Identity '${desk}' -SmtpClientAuthenticationDisabled $false`,
    );
    await mailbox(desk, { smtpClientAuthenticationDisabled: null });
  });

  it('IMAP off for the mailbox: logged in but not connected, and Set-CASMailbox -ImapEnabled $true', async () => {
    await mailbox(desk, { imapEnabled: false });
    const c = find(await check([desk], ['imap']), `imap:${desk}`);
    expect(c).toMatchObject({ ok: false, cause: 'notConnected' });
    expect(c.detail).toContain('User is authenticated but not connected.');
    expect(c.remediation).toContain(`Set-CASMailbox -Identity '${desk}' -ImapEnabled $true`);
    await mailbox(desk, { imapEnabled: true });
  });

  it('a mailbox an access policy denies to the app: login refused, with the registration and grant for that mailbox; one that does not exist: noMailbox', async () => {
    const denied = `ceo@${tenant.domain}`;
    const nobody = `nobody@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, {
      address: denied,
      deniedAppIds: [inject('sandbox').homeApp.clientId],
    });
    const r = await check([denied, nobody], ['imap', 'pop', 'smtp']);
    for (const p of ['imap', 'pop', 'smtp']) {
      const c = find(r, `${p}:${denied}`);
      expect(c, `${p} ${denied}`).toMatchObject({ ok: false, cause: 'loginRefused' });
      expect(c.remediation).toContain('New-ServicePrincipal');
      expect(c.remediation).toContain(denied);
      // Exchange refuses a missing mailbox as it does an ungranted one; Graph (the app reads mail) tells them apart.
      const missing = find(r, `${p}:${nobody}`);
      expect(missing, `${p} ${nobody}`).toMatchObject({ ok: false, cause: 'noMailbox' });
      expect(missing.detail).toContain('Exchange answered');
      expect(missing.remediation).toContain('Check the address');
      expect(missing.remediation).not.toContain('New-ServicePrincipal');
    }
    expect(find(r, `mailbox:${nobody}`)).toMatchObject({ ok: false, cause: 'noMailbox' });
    expect(find(r, `imap:${nobody}`).detail).toContain('"A1 NO AUTHENTICATE failed."');
    expect(find(r, `pop:${denied}`).remediation).toContain(
      `Set-CASMailbox -Identity '${denied}' -PopEnabled $true`,
    );
    // No token in any answer.
    expect(JSON.stringify(r)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });

  it('the service principal not registered in Exchange, then registered without the mailbox: refused, and the registration fixes it', async () => {
    const appId = inject('sandbox').homeApp.clientId;
    const registration = (servicePrincipals: unknown) =>
      control('PUT', `/_sim/tenants/${tenant.tenantId}/exchange-service-principals`, { servicePrincipals });
    try {
      // Another app registered, not this one: Exchange refuses every app-only login.
      await registration([{ appId: '00000000-0000-0000-0000-00000000beef', mailboxes: 'all' }]);
      const unregistered = await check([desk], ['imap', 'pop', 'smtp']);
      for (const p of ['imap', 'pop', 'smtp']) {
        const c = find(unregistered, `${p}:${desk}`);
        expect(c, p).toMatchObject({ ok: false, cause: 'loginRefused' });
        expect(c.detail).toContain('not registered in Exchange Online');
        expect(c.remediation).toMatch(
          new RegExp(`New-ServicePrincipal -AppId '${appId}' -ObjectId '[0-9a-f-]{36}'`),
        );
        expect(c.remediation).toContain(`Add-MailboxPermission -Identity '${desk}'`);
      }
      // Registered, granted another mailbox only.
      await registration([{ appId, mailboxes: [`other@${tenant.domain}`] }]);
      const ungranted = find(await check([desk], ['imap']), `imap:${desk}`);
      expect(ungranted).toMatchObject({ ok: false, cause: 'loginRefused' });
      expect(ungranted.remediation).toContain(`Add-MailboxPermission -Identity '${desk}'`);
      // What the remediation does: register and grant the mailbox; the login is accepted.
      await registration([{ appId, mailboxes: [desk] }]);
      const fixed = find(await check([desk], ['imap']), `imap:${desk}`);
      expect(fixed).toMatchObject({ ok: true, cause: 'ok' });
    } finally {
      await registration(null);
    }
  });

  it('refuses an unknown protocol (400) and changes nothing', async () => {
    const res = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mailboxes: [desk], protocols: ['fax'] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain('protocols');
  });
});
