/**
 * The broker's logins to Exchange's mail protocols (src/adapters/exchange/mail-probe.ts) over real sockets against
 * the sandbox's stand-ins (simulators/mail/): IMAP and POP3 over TLS, SMTP with STARTTLS, each `ok` with an app-only
 * token carrying the protocol's role; and each refusal reported with the step and Exchange's reply, which support
 * classifies: a token for another resource, IMAP or POP turned off for the mailbox, SMTP AUTH off for the tenant.
 * A port nobody answers on is "unavailable", not a refusal.
 * @module
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { createMailProbes } from '../../src/adapters/exchange/mail-probe.js';
import { MailProtocolUnavailable } from '../../src/adapters/exchange/port.js';
import { freePort } from '../../local/free-port.js';
import { control, newTenant } from '../helpers/sim-control.js';

const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const probes = () =>
  createMailProbes({
    addresses: { imap: inject('imapAddress'), pop: inject('pop3Address'), smtp: inject('smtpAddress') },
    stepTimeoutMs: 5_000,
  });

async function setup() {
  const tenant = await newTenant('Probe Ltd', ['probe.example']);
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Probe app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    requiredRoles: { [EXCHANGE]: ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp'] },
  });
  await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: app.appId });
  await control('POST', `/_sim/tenants/${tenant}/mailboxes`, { address: 'desk@probe.example' });
  const token = async (resource: string) =>
    (
      await control<{ access_token: string }>('POST', '/_sim/tokens/app', {
        tenant,
        appId: app.appId,
        resource,
      })
    ).access_token;
  return {
    tenant,
    exchange: await token('https://outlook.office365.com'),
    graph: await token('https://graph.microsoft.com'),
  };
}

describe('mail protocol logins as a PBX makes them', () => {
  it('logs in to IMAP, POP3 and SMTP with an app-only Exchange token, and reports each refusal with its step and reply', async () => {
    const { tenant, exchange, graph } = await setup();
    const p = probes();
    for (const protocol of ['imap', 'pop', 'smtp'] as const)
      expect(await p.probe(protocol, 'desk@probe.example', exchange), protocol).toMatchObject({
        protocol,
        outcome: 'ok',
      });

    expect(await p.probe('imap', 'desk@probe.example', graph)).toEqual({
      protocol: 'imap',
      outcome: 'refused',
      step: 'auth',
      reply: 'A1 NO AUTHENTICATE failed.',
    });
    expect(await p.probe('smtp', 'desk@probe.example', graph)).toMatchObject({
      outcome: 'refused',
      step: 'auth',
      reply: expect.stringMatching(/^535 5\.7\.3 Authentication unsuccessful/),
    });

    await control('PATCH', `/_sim/tenants/${tenant}/mailboxes/desk%40probe.example`, {
      imapEnabled: false,
      popEnabled: false,
    });
    expect(await p.probe('imap', 'desk@probe.example', exchange)).toEqual({
      protocol: 'imap',
      outcome: 'refused',
      step: 'command',
      reply: 'A2 BAD User is authenticated but not connected.',
    });
    expect(await p.probe('pop', 'desk@probe.example', exchange)).toMatchObject({
      outcome: 'refused',
      step: 'auth',
      reply: '-ERR Authentication failure: unknown user name or bad password.',
    });
    await control('PUT', `/_sim/tenants/${tenant}/transport-config`, {
      smtpClientAuthenticationDisabled: true,
    });
    const smtp = await p.probe('smtp', 'desk@probe.example', exchange);
    expect(smtp).toMatchObject({ outcome: 'refused', step: 'auth' });
    expect(smtp.reply).toContain(
      '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
    );
    expect(JSON.stringify(smtp)).not.toContain(exchange.slice(-20));
  });

  it('answers MailProtocolUnavailable when nothing answers, within its time bound', async () => {
    const port = await freePort();
    const p = createMailProbes({
      addresses: { imap: `localhost:${port}`, pop: `localhost:${port}`, smtp: `localhost:${port}` },
      stepTimeoutMs: 2_000,
    });
    const started = Date.now();
    await expect(p.probe('smtp', 'a@b.example', 'x')).rejects.toBeInstanceOf(MailProtocolUnavailable);
    await expect(p.probe('imap', 'a@b.example', 'x')).rejects.toBeInstanceOf(MailProtocolUnavailable);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('bounds each step on its own: a server that answers EHLO but never STARTTLS stops at that step', async () => {
    const server = createServer((socket) => {
      socket.write('220 slow.example ESMTP\r\n');
      socket.on('data', (d) => {
        if (/^EHLO/i.test(d.toString())) socket.write('250 slow.example\r\n');
        // STARTTLS: no answer.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const p = createMailProbes({
        addresses: { imap: `localhost:${port}`, pop: `localhost:${port}`, smtp: `localhost:${port}` },
        stepTimeoutMs: 300,
      });
      const err: unknown = await p.probe('smtp', 'a@b.example', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailProtocolUnavailable);
      expect((err as Error).message).toBe('Exchange Online SMTP: starttls no answer in 300 ms');
    } finally {
      server.close();
    }
  });
});
