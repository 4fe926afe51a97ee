/**
 * An Exchange Online-like POP3 server over TLS (outlook.office365.com:995): CAPA, AUTH XOAUTH2 (initial response
 * on the command line, or after `+ `), STAT, NOOP, QUIT; the mailbox is empty. A refused token, or a mailbox with
 * POP turned off (Set-CASMailbox -PopEnabled $false), gets `-ERR Authentication failure: unknown user name or bad
 * password.` (the reply clients log from Exchange Online; **third-party only**; whether POP disabled answers the
 * same text is **unverified**).
 * @module
 */
import { createServer } from 'node:tls';
import type { SandboxTls } from '../common/ca.js';
import type { SimContext } from '../context.js';
import { listen, type MailServer } from './imap.js';
import { lineSession } from './session.js';
import { xoauth2Login, type MailLogin } from './xoauth2.js';

export async function startPop3Server(ctx: SimContext, tls: SandboxTls, port = 0): Promise<MailServer> {
  const server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (socket) => {
    let login: MailLogin | undefined;
    let awaiting = false;
    const session = lineSession(socket, tls, true, async (line, s) => {
      const authenticate = async (sasl: string) => {
        const found = await xoauth2Login(ctx, sasl, 'pop');
        if (found && found.mailbox?.popEnabled !== false) {
          login = found;
          return s.send('+OK User successfully authenticated.');
        }
        return s.send('-ERR Authentication failure: unknown user name or bad password.');
      };
      if (awaiting) {
        awaiting = false;
        return authenticate(line.trim());
      }
      const [verb = '', ...args] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'CAPA':
          s.send('+OK');
          for (const c of ['TOP', 'UIDL', 'SASL PLAIN XOAUTH2', 'USER', '.']) s.send(c);
          return;
        case 'AUTH':
          if ((args[0] ?? '').toUpperCase() !== 'XOAUTH2')
            return s.send('-ERR Unrecognized authentication type.');
          if (args[1] !== undefined) return authenticate(args[1]);
          awaiting = true;
          return s.send('+ ');
        case 'STAT':
          return s.send(login ? '+OK 0 0' : '-ERR Command is not valid in this state.');
        case 'LIST':
          if (!login) return s.send('-ERR Command is not valid in this state.');
          s.send('+OK 0 messages (0 octets)');
          return s.send('.');
        case 'UIDL':
          if (!login) return s.send('-ERR Command is not valid in this state.');
          s.send('+OK');
          return s.send('.');
        case 'NOOP':
          return s.send('+OK');
        case 'QUIT':
          s.send('+OK Microsoft Exchange Server POP3 server signing off.');
          return s.end();
        default:
          return s.send('-ERR Protocol error. 14');
      }
    });
    session.send('+OK The Microsoft Exchange POP3 service is ready.');
  });
  return listen(server, port);
}
