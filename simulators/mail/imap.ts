/**
 * An Exchange Online-like IMAP4 server over TLS (outlook.office365.com:993), enough for a PBX's login and a
 * harmless command: CAPABILITY, ID, AUTHENTICATE XOAUTH2 (with SASL-IR or a continuation), SELECT / EXAMINE, LIST,
 * NOOP, LOGOUT; INBOX is empty and nothing is stored. A token is checked as Exchange checks it (xoauth2.ts); a
 * refused one gets `NO AUTHENTICATE failed.` (the text Microsoft's troubleshooting quotes for IMAP). A mailbox with
 * IMAP turned off (Set-CASMailbox -ImapEnabled $false) lets the login through and answers the next command
 * `BAD User is authenticated but not connected.`, as Exchange does (widely reported; **third-party only**). The
 * other reply texts follow Exchange's as clients log them (**unverified** wording).
 * @module
 */
import { createServer } from 'node:tls';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { SandboxTls } from '../common/ca.js';
import type { SimContext } from '../context.js';
import { lineSession } from './session.js';
import { xoauth2Login, type MailLogin } from './xoauth2.js';

export interface MailServer {
  /** `host:port` */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startImapServer(ctx: SimContext, tls: SandboxTls, port = 0): Promise<MailServer> {
  const server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (socket) => {
    let login: MailLogin | undefined;
    /** An AUTHENTICATE waiting for its SASL line after `+ `. */
    let awaiting: string | undefined;
    const session = lineSession(socket, tls, true, async (line, s) => {
      const authenticate = async (tag: string, sasl: string) => {
        login = await xoauth2Login(ctx, sasl, 'imap');
        s.send(login ? `${tag} OK AUTHENTICATE completed.` : `${tag} NO AUTHENTICATE failed.`);
      };
      if (awaiting !== undefined) {
        const tag = awaiting;
        awaiting = undefined;
        return authenticate(tag, line.trim());
      }
      const [tag = '*', verb = '', ...args] = line.split(' ');
      const command = verb.toUpperCase();
      /** After login: a mailbox whose IMAP is off is "authenticated but not connected". */
      const connected = () => {
        if (!login) return (s.send(`${tag} BAD Command received in Invalid state.`), false);
        if (login.mailbox?.imapEnabled === false)
          return (s.send(`${tag} BAD User is authenticated but not connected.`), false);
        return true;
      };
      switch (command) {
        case 'CAPABILITY':
          s.send(
            '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
          );
          return s.send(`${tag} OK CAPABILITY completed.`);
        case 'ID':
          s.send('* ID NIL');
          return s.send(`${tag} OK ID completed.`);
        case 'NOOP':
          if (login && !connected()) return;
          return s.send(`${tag} OK NOOP completed.`);
        case 'AUTHENTICATE':
          if ((args[0] ?? '').toUpperCase() !== 'XOAUTH2')
            return s.send(`${tag} NO The AUTH protocol exchange was canceled by the client.`);
          if (args[1] !== undefined) return authenticate(tag, args[1]);
          awaiting = tag;
          return s.send('+ ');
        case 'SELECT':
        case 'EXAMINE':
          if (!connected()) return;
          s.send('* 0 EXISTS');
          s.send('* 0 RECENT');
          s.send('* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)');
          s.send('* OK [UIDVALIDITY 14] UIDVALIDITY value');
          s.send('* OK [UIDNEXT 1] The next unique identifier value');
          return s.send(
            `${tag} OK [${command === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] ${command} completed.`,
          );
        case 'LIST':
          if (!connected()) return;
          s.send('* LIST (\\HasNoChildren) "/" INBOX');
          return s.send(`${tag} OK LIST completed.`);
        case 'LOGOUT':
          s.send('* BYE Microsoft Exchange Server IMAP4 server signing off.');
          s.send(`${tag} OK LOGOUT completed.`);
          return s.end();
        default:
          return s.send(`${tag} BAD Command Error. 10`);
      }
    });
    session.send('* OK The Microsoft Exchange IMAP4 service is ready.');
  });
  return listen(server, port);
}

export async function listen(server: NetServer, port: number): Promise<MailServer> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `localhost:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
