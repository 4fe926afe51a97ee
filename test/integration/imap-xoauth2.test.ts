/**
 * A real client agrees: curl logs in to the simulated Exchange IMAP (simulators/mail/imap.ts) over TLS with SASL
 * XOAUTH2, using a user's access token the broker vended from a mailbox grant (README "Delegated mailboxes") and
 * the user's address as the XOAUTH2 user — what a PBX does with the token. The same token for another mailbox, or
 * an app-only token without `IMAP.AccessAsApp`, gets Exchange's `NO AUTHENTICATE failed.`.
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
let domain: string;

/** curl's IMAP dialogue (`-v` writes it to stderr) and its exit code. */
async function curlImap(user: string, token: string): Promise<{ code: number; dialogue: string }> {
  try {
    const { stderr } = await run('curl', [
      '-sv',
      '--cacert',
      inject('caBundlePath'),
      '--url',
      `imaps://${inject('imapAddress')}/`,
      '--user',
      `${user}:`,
      '--oauth2-bearer',
      token,
      '-X',
      'EXAMINE INBOX',
      '--max-time',
      '10',
    ]);
    return { code: 0, dialogue: stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, dialogue: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  broker = await startTestBroker();
  const admin = await broker.staffToken();
  const tenant = await consentedTenant(broker.url, admin, 'Imap Client Ltd');
  domain = tenant.domain;
  f = await grantFixture(broker.url, admin, tenant.tenantId, ['user-imap'], 'PBX-IMAP');
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

describe('curl logs in to IMAP with a delegated token the broker vended', () => {
  it('AUTHENTICATE XOAUTH2 as the grant’s user succeeds, and EXAMINE INBOX answers', async () => {
    const user = `queue@${domain}`;
    const { handle } = await activeGrantWithHandle(f, user, ['user-imap']);
    const vended = await refreshWithHandle(f, handle, 'https://outlook.office.com/IMAP.AccessAsUser.All');
    expect(vended.status).toBe(200);
    const { code, dialogue } = await curlImap(user, vended.body.access_token!);
    expect(dialogue).toMatch(/< \* OK The Microsoft Exchange IMAP4 service is ready\./);
    expect(dialogue).toMatch(/> \w+ AUTHENTICATE XOAUTH2 /);
    expect(dialogue).toMatch(/< \w+ OK AUTHENTICATE completed\./);
    expect(dialogue).toMatch(/< \w+ OK \[READ-ONLY\] EXAMINE completed\./);
    expect(code).toBe(0);

    // The same token for another mailbox is refused as Exchange refuses it; curl reports a failed login (67).
    await control('POST', `/_sim/tenants/${f.tenantId}/users`, { userPrincipalName: `other@${domain}` });
    const other = await curlImap(`other@${domain}`, vended.body.access_token!);
    expect(other.dialogue).toMatch(/< \w+ NO AUTHENTICATE failed\./);
    expect(other.code).toBe(67);
  });

  it('refuses an app-only token that carries no IMAP role', async () => {
    const appOnly = await control<{ access_token: string }>('POST', '/_sim/tokens/app', {
      tenant: f.tenantId,
      appId: inject('sandbox').homeApp.clientId,
      resource: 'https://graph.microsoft.com',
    });
    const { code, dialogue } = await curlImap(`queue@${domain}`, appOnly.access_token);
    expect(dialogue).toMatch(/NO AUTHENTICATE failed\./);
    expect(code).toBe(67);
  });
});
