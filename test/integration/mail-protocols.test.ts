/**
 * The sandbox speaks Exchange Online's mail protocols (simulators/mail/), and real clients agree: curl logs in to
 * the simulated POP3 (TLS) and SMTP submission (STARTTLS) with SASL XOAUTH2, using a user's tokens the broker
 * vended from a mailbox grant; and the Exchange settings a tenant or a mailbox can have turned off answer as
 * Exchange answers: SMTP AUTH disabled for the tenant or the mailbox (5.7.139, Set-TransportConfig /
 * Set-CASMailbox), IMAP or POP disabled for the mailbox.
 * @module
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentedTenant } from '../helpers/consented-tenant.js';
import {
  activeGrantWithHandle,
  refreshWithHandle,
  grantFixture,
  type GrantFixture,
} from '../helpers/mailbox-grant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const run = promisify(execFile);
let broker: TestBroker;
let f: GrantFixture;
let user: string;
const tokens: Record<'imap' | 'pop' | 'smtp', string> = { imap: '', pop: '', smtp: '' };

/** curl's dialogue (`-v` writes it to stderr) and its exit code. */
async function curl(args: string[]): Promise<{ code: number; dialogue: string }> {
  try {
    const { stderr } = await run('curl', [
      '-sv',
      '--cacert',
      inject('caBundlePath'),
      '--max-time',
      '10',
      ...args,
    ]);
    return { code: 0, dialogue: stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, dialogue: e.stderr ?? '' };
  }
}

const pop = (token: string) =>
  curl(['--url', `pop3s://${inject('pop3Address')}/`, '--user', `${user}:`, '--oauth2-bearer', token]);
const smtp = (token: string) =>
  curl([
    '--url',
    `smtp://${inject('smtpAddress')}`,
    '--ssl-reqd',
    '--user',
    `${user}:`,
    '--oauth2-bearer',
    token,
  ]);
const imap = (token: string) =>
  curl([
    '--url',
    `imaps://${inject('imapAddress')}/`,
    '--user',
    `${user}:`,
    '--oauth2-bearer',
    token,
    '-X',
    'EXAMINE INBOX',
  ]);

beforeAll(async () => {
  broker = await startTestBroker();
  const admin = await broker.staffToken();
  const tenant = await consentedTenant(broker.url, admin, 'Mail Protocols Ltd');
  f = await grantFixture(
    broker.url,
    admin,
    tenant.tenantId,
    ['user-imap', 'user-pop', 'user-smtp'],
    'PBX-MAIL',
  );
  user = `frontdesk@${tenant.domain}`;
  await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, { address: user });
  const { handle } = await activeGrantWithHandle(f, user, ['user-imap', 'user-pop', 'user-smtp']);
  for (const [p, scope] of [
    ['imap', 'IMAP.AccessAsUser.All'],
    ['pop', 'POP.AccessAsUser.All'],
    ['smtp', 'SMTP.Send'],
  ] as const) {
    const vended = await refreshWithHandle(f, handle, `https://outlook.office.com/${scope}`);
    expect(vended.status).toBe(200);
    tokens[p] = vended.body.access_token!;
  }
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

const mailbox = (body: Record<string, unknown>) =>
  control('PATCH', `/_sim/tenants/${f.tenantId}/mailboxes/${encodeURIComponent(user)}`, body);

describe('real mail clients against the sandbox’s Exchange', () => {
  it('POP3: AUTH XOAUTH2 with the user’s POP token, then LIST (an empty mailbox)', async () => {
    const { code, dialogue } = await pop(tokens.pop);
    expect(dialogue).toMatch(/< \+OK The Microsoft Exchange POP3 service is ready\./);
    expect(dialogue, dialogue).toMatch(/> AUTH XOAUTH2/);
    expect(dialogue).toMatch(/< \+OK User successfully authenticated\./);
    expect(dialogue).toMatch(/> LIST/);
    expect(dialogue).toMatch(/< \+OK 0 messages/);
    expect(code).toBe(0);
    // An IMAP token is not a POP one.
    const wrong = await pop(tokens.imap);
    expect(wrong.dialogue).toMatch(/< -ERR Authentication failure: unknown user name or bad password\./);
    expect(wrong.code).toBe(67);
  });

  it('SMTP: STARTTLS, then AUTH XOAUTH2 with the user’s SMTP.Send token; no message sent', async () => {
    const { code, dialogue } = await smtp(tokens.smtp);
    expect(dialogue).toMatch(/< 220 .* Microsoft ESMTP MAIL Service ready/);
    expect(dialogue).toMatch(/> STARTTLS/);
    expect(dialogue, dialogue).toMatch(/> AUTH XOAUTH2/);
    expect(dialogue).toMatch(/< 235 2\.7\.0 Authentication successful/);
    expect(code).toBe(0);
    const wrong = await smtp(tokens.pop);
    expect(wrong.dialogue).toMatch(/< 535 5\.7\.3 Authentication unsuccessful/);
    expect(wrong.code).toBe(67);
  });

  it('SMTP AUTH disabled for the tenant, then for the mailbox only: 5.7.139 naming which', async () => {
    await control('PUT', `/_sim/tenants/${f.tenantId}/transport-config`, {
      smtpClientAuthenticationDisabled: true,
    });
    const tenantOff = await smtp(tokens.smtp);
    expect(tenantOff.dialogue).toMatch(
      /< 535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\. Visit https:\/\/aka\.ms\/smtp_auth_disabled/,
    );
    expect(tenantOff.code).toBe(67);
    // The mailbox's own setting wins over the tenant's, both ways.
    await mailbox({ smtpClientAuthenticationDisabled: false });
    expect((await smtp(tokens.smtp)).code).toBe(0);
    await control('PUT', `/_sim/tenants/${f.tenantId}/transport-config`, {
      smtpClientAuthenticationDisabled: false,
    });
    await mailbox({ smtpClientAuthenticationDisabled: true });
    expect((await smtp(tokens.smtp)).dialogue).toMatch(/disabled for the Mailbox\./);
    await mailbox({ smtpClientAuthenticationDisabled: null });
    expect((await smtp(tokens.smtp)).code).toBe(0);
  });

  it('IMAP and POP disabled for the mailbox: IMAP logs in but is “not connected”, POP refuses the login', async () => {
    await mailbox({ imapEnabled: false, popEnabled: false });
    const i = await imap(tokens.imap);
    expect(i.dialogue).toMatch(/< \w+ OK AUTHENTICATE completed\./);
    expect(i.dialogue).toMatch(/< \w+ BAD User is authenticated but not connected\./);
    expect(i.code).not.toBe(0);
    const p = await pop(tokens.pop);
    expect(p.dialogue).toMatch(/-ERR Authentication failure/);
    await mailbox({ imapEnabled: true, popEnabled: true });
    expect((await imap(tokens.imap)).code).toBe(0);
    expect((await pop(tokens.pop)).code).toBe(0);
  });
});
