/**
 * An Exchange Online-like SMTP submission server (smtp.office365.com:587): EHLO, STARTTLS (RFC 3207), AUTH
 * XOAUTH2, MAIL FROM / RCPT TO refused before AUTH, HELP, NOOP, RSET, QUIT — no message is ever accepted (DATA is
 * refused): the broker and curl only log in. Replies as Exchange Online words them (as clients log them; each
 * **third-party only**): a refused token `535 5.7.3 Authentication unsuccessful`; SMTP AUTH off
 * (Set-TransportConfig / Set-CASMailbox -SmtpClientAuthenticationDisabled $true,
 * https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission)
 * `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit
 * https://aka.ms/smtp_auth_disabled for more information.` (or `… for the Mailbox. …`); a submission without AUTH
 * `530 5.7.57 Client not authenticated to send mail.`
 * @module
 */
import { createServer, type Server } from 'node:net';
import type { SandboxTls } from '../common/ca.js';
import type { SimContext } from '../context.js';
import { listen, type MailServer } from './imap.js';
import { lineSession } from './session.js';
import { smtpAuthDisabled, xoauth2Login, type MailLogin } from './xoauth2.js';

const HOST = 'SIM01.outlook.office365.com';
const disabledFor = (where: 'Tenant' | 'Mailbox') =>
  `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the ${where}. Visit https://aka.ms/smtp_auth_disabled for more information. [${HOST}]`;

export async function startSmtpServer(ctx: SimContext, tls: SandboxTls, port = 0): Promise<MailServer> {
  const server: Server = createServer((socket) => {
    let login: MailLogin | undefined;
    let awaiting = false;
    const session = lineSession(socket, tls, false, async (line, s) => {
      const authenticate = async (sasl: string) => {
        const found = await xoauth2Login(ctx, sasl, 'smtp');
        if (!found) return s.send(`535 5.7.3 Authentication unsuccessful [${HOST}]`);
        const off = smtpAuthDisabled(found);
        if (off) return s.send(disabledFor(off === 'tenant' ? 'Tenant' : 'Mailbox'));
        login = found;
        return s.send('235 2.7.0 Authentication successful');
      };
      if (awaiting) {
        awaiting = false;
        return authenticate(line.trim());
      }
      const [verb = '', ...args] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          s.send(`250-${HOST} Hello [127.0.0.1]`);
          s.send('250-SIZE 157286400');
          s.send('250-PIPELINING');
          s.send('250-ENHANCEDSTATUSCODES');
          s.send('250-8BITMIME');
          // AUTH is offered only once the connection is encrypted, as Exchange Online does.
          if (s.secure) s.send('250-AUTH LOGIN XOAUTH2');
          else s.send('250-STARTTLS');
          return s.send('250 SMTPUTF8');
        case 'HELO':
          return s.send(`250 ${HOST} Hello [127.0.0.1]`);
        case 'STARTTLS':
          if (s.secure) return s.send('554 5.5.1 Error: TLS already active');
          s.send('220 2.0.0 SMTP server ready');
          return s.startTls();
        case 'AUTH':
          if (!s.secure) return s.send('504 5.7.4 Unrecognized authentication type');
          if ((args[0] ?? '').toUpperCase() !== 'XOAUTH2')
            return s.send('504 5.7.4 Unrecognized authentication type');
          if (args[1] !== undefined) return authenticate(args[1]);
          awaiting = true;
          return s.send('334 ');
        case 'MAIL':
        case 'RCPT':
          if (!login) return s.send(`530 5.7.57 Client not authenticated to send mail. [${HOST}]`);
          return s.send(verb.toUpperCase() === 'MAIL' ? '250 2.1.0 Sender OK' : '250 2.1.5 Recipient OK');
        case 'DATA':
          // The stand-in never takes a message.
          return s.send('554 5.7.0 The simulator accepts no message');
        case 'HELP':
          return s.send(
            '214 This server supports the following commands: HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH',
          );
        case 'NOOP':
        case 'RSET':
          return s.send('250 2.0.0 OK');
        case 'QUIT':
          s.send('221 2.0.0 Service closing transmission channel');
          return s.end();
        default:
          return s.send('500 5.3.3 Unrecognized command');
      }
    });
    session.send(`220 ${HOST} Microsoft ESMTP MAIL Service ready`);
  });
  return listen(server, port);
}
