/**
 * "Test Connection" for delegated mailboxes (src/support/checks-grants.ts): `POST /api/tenants/{tenantId}/check`
 * refreshes each grant's kept sign-in and logs in over IMAP / POP3 / SMTP with the user's token to the grant's
 * mailbox, against the sandbox's Exchange stand-ins, and turns each simulated fault into its cause and fix: a
 * protocol off for the user's mailbox, SMTP AUTH off, Full Access to a shared mailbox removed, the user's sessions
 * revoked (the grant becomes reauth_required). Unknown grants are refused before anything runs.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { activeGrant, grantFixture, type GrantFixture } from '../helpers/mailbox-grant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let tenant: ConsentedTenant;
let f: GrantFixture;
let alice: string;
let agent: string;
let queue: string;
let own: string;
let shared: string;

interface Report {
  status: string;
  checks: { name: string; ok: boolean | null; cause?: string; detail: string; remediation: string | null }[];
}

async function check(body: Record<string, unknown>): Promise<{ status: number; report: Report }> {
  const res = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, report: (await res.json()) as Report };
}
const find = (r: Report, name: string) => {
  const c = r.checks.find((x) => x.name === name);
  expect(c, `${name} in ${r.checks.map((x) => x.name).join(', ')}`).toBeDefined();
  return c!;
};
const mailbox = (address: string, body: Record<string, unknown>) =>
  control('PATCH', `/_sim/tenants/${tenant.tenantId}/mailboxes/${encodeURIComponent(address)}`, body);

beforeAll(async () => {
  broker = await startTestBroker();
  const admin = await broker.staffToken();
  tenant = await consentedTenant(broker.url, admin, 'Grant Check Ltd', ['exchange-imap']);
  f = await grantFixture(broker.url, admin, tenant.tenantId, ['user-imap', 'user-pop', 'user-smtp']);
  alice = `alice@${tenant.domain}`;
  agent = `agent@${tenant.domain}`;
  queue = `queue@${tenant.domain}`;
  for (const u of [alice, agent])
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: u });
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, { address: alice });
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, {
    address: queue,
    fullAccess: [agent],
  });
  own = await activeGrant(f, alice, ['user-imap', 'user-pop', 'user-smtp']);
  shared = await activeGrant(f, agent, ['user-imap'], queue);
}, 90_000);

afterAll(async () => {
  await broker?.close();
});

describe('Test Connection with a grant’s delegated token', () => {
  it('by default checks the tenant’s active grants: the sign-in refreshed, each protocol logged in to as the user', async () => {
    const { status, report } = await check({});
    expect(status).toBe(200);
    expect(find(report, `grant:${own}`)).toMatchObject({ ok: true, cause: 'ok' });
    expect(find(report, `grant:${own}`).detail).toContain(
      'IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send',
    );
    for (const p of ['imap', 'pop', 'smtp'])
      expect(find(report, `grant:${own}:${p}`), p).toMatchObject({
        ok: true,
        cause: 'ok',
        remediation: null,
      });
    expect(find(report, `grant:${own}:imap`).detail).toContain(`IMAP login as ${alice} accepted`);
    expect(find(report, `grant:${shared}:imap`).detail).toContain(`${queue} (shared, signed in as ${agent})`);
    expect(report.checks.some((c) => c.name === `grant:${shared}:pop`)).toBe(false);
    // No token of any kind in the answer.
    expect(JSON.stringify(report)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}|mbh_/);
  });

  it('IMAP and POP off, SMTP AUTH off for the user’s own mailbox: each named with its Set-CASMailbox', async () => {
    await mailbox(alice, { imapEnabled: false, popEnabled: false, smtpClientAuthenticationDisabled: true });
    try {
      const { report } = await check({ grants: [own] });
      const imap = find(report, `grant:${own}:imap`);
      expect(imap).toMatchObject({ ok: false, cause: 'notConnected' });
      expect(imap.remediation).toBe(
        `An Exchange administrator turns IMAP on for the mailbox:\nSet-CASMailbox -Identity '${alice}' -ImapEnabled $true`,
      );
      const pop = find(report, `grant:${own}:pop`);
      expect(pop).toMatchObject({ ok: false, cause: 'loginRefused' });
      expect(pop.detail).toContain('-ERR Authentication failure');
      expect(pop.remediation).toBe(
        `An Exchange administrator runs:\nSet-CASMailbox -Identity '${alice}' -PopEnabled $true`,
      );
      const smtp = find(report, `grant:${own}:smtp`);
      expect(smtp).toMatchObject({ ok: false, cause: 'smtpAuthDisabledForMailbox' });
      expect(smtp.remediation).toContain(
        `Set-CASMailbox -Identity '${alice}' -SmtpClientAuthenticationDisabled $false`,
      );
      // Only the grant asked for, only the protocols asked for.
      expect(report.checks.some((c) => c.name.startsWith(`grant:${shared}`))).toBe(false);
      const imapOnly = (await check({ grants: [own], protocols: ['imap'] })).report;
      expect(imapOnly.checks.filter((c) => c.name.startsWith(`grant:${own}:`)).map((c) => c.name)).toEqual([
        `grant:${own}:imap`,
      ]);
    } finally {
      await mailbox(alice, { imapEnabled: true, popEnabled: true, smtpClientAuthenticationDisabled: null });
    }
  });

  it('Full Access to the shared mailbox taken away: noFullAccess, and the Add-MailboxPermission for that user', async () => {
    await mailbox(queue, { fullAccess: [] });
    try {
      const c = find((await check({ grants: [shared] })).report, `grant:${shared}:imap`);
      expect(c).toMatchObject({ ok: false, cause: 'noFullAccess' });
      expect(c.detail).toContain('AUTHENTICATE failed');
      expect(c.remediation).toBe(
        `An Exchange administrator gives the user Full Access to the shared mailbox:\nAdd-MailboxPermission -Identity '${queue}' -User '${agent}' -AccessRights FullAccess -InheritanceType All`,
      );
    } finally {
      await mailbox(queue, { fullAccess: [agent] });
    }
    expect(find((await check({ grants: [shared] })).report, `grant:${shared}:imap`).ok).toBe(true);
  });

  it('refuses an unknown grant (404) before checking anything, and a malformed one (400)', async () => {
    const before = (await check({ grants: [] })).report.checks.length;
    const unknown = await check({ grants: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknown.status).toBe(404);
    expect((unknown.report as unknown as { detail: string }).detail).toContain('No mailbox grant');
    expect((await check({ grants: ['not-a-grant'] })).status).toBe(400);
    // `grants: []` checks none.
    const none = (await check({ grants: [] })).report;
    expect(none.checks.length).toBe(before);
    expect(none.checks.some((c) => c.name.startsWith('grant:'))).toBe(false);
  });

  it('the user’s sessions revoked: the refresh is refused now, the grant becomes reauth_required, and the fix is a fresh grant', async () => {
    await control('PATCH', `/_sim/tenants/${tenant.tenantId}/users/${encodeURIComponent(alice)}`, {
      revokeSignInSessions: true,
    });
    const c = find((await check({ grants: [own] })).report, `grant:${own}`);
    expect(c).toMatchObject({ ok: false, cause: 'reauthRequired' });
    expect(c.detail).toContain('AADSTS50173');
    expect(c.remediation).toContain(`POST /api/tenants/${tenant.tenantId}/mailbox-grants`);
    expect(c.remediation).toContain(`"mailbox":"${alice}"`);
    expect(c.remediation).toContain(`DELETE /api/tenants/${tenant.tenantId}/mailbox-grants/${own}`);
    const read = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/mailbox-grants/${own}`, {
      headers: { authorization: `Bearer ${f.admin}` },
    });
    expect(await read.json()).toMatchObject({ status: 'reauth_required', error: { code: 'AADSTS50173' } });
    // Checked again: reported from the grant, without asking Entra again; no login tried.
    const again = (await check({ grants: [own] })).report;
    expect(find(again, `grant:${own}`)).toMatchObject({ ok: false, cause: 'reauthRequired' });
    expect(again.checks.some((x) => x.name.startsWith(`grant:${own}:`))).toBe(false);
  });
});
