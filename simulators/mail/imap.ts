/**
 * An Exchange Online-like IMAP4 server over TLS (port 993 in Microsoft's cloud), enough for a PBX's login and a
 * harmless command: CAPABILITY, ID, AUTHENTICATE XOAUTH2 (with SASL-IR or a continuation), SELECT / EXAMINE INBOX,
 * LIST, NOOP, LOGOUT. It checks a token as Exchange does
 * (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth):
 * signed by the simulated Entra ID and in force; `aud` Exchange Online (`https://outlook.office365.com`,
 * `https://outlook.office.com` or its app id); a delegated token with `IMAP.AccessAsUser.All` in `scp` for the
 * user named in the SASL string (its `upn`, or a shared mailbox that user has Full Access to, as the same page's
 * "shared mailbox access" describes); or an app-only token with `IMAP.AccessAsApp` in `roles` for a mailbox
 * of its tenant that no access policy denies to its app. Anything else gets Exchange's reply
 * `NO AUTHENTICATE failed.` (the text Microsoft's troubleshooting pages quote for IMAP). SASL XOAUTH2 is
 * `user=<address>^Aauth=Bearer <token>^A^A`, base64 (same page). No message is stored or read: INBOX is empty.
 * @module
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { SandboxTls } from '../common/ca.js';
import { audienceIn } from '../common/clouds.js';
import { EXCHANGE_APP_ID } from '../common/well-known.js';
import type { SimContext } from '../context.js';

const EXCHANGE_AUDIENCES = ['https://outlook.office365.com', 'https://outlook.office.com'];
/** At most this much of one command line is read (a token is a few KB). */
const MAX_LINE = 64 * 1024;

export interface ImapServer {
  /** `host:port` */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Who a token lets in, or why not: the mailbox it opens. */
export async function xoauth2Mailbox(
  ctx: SimContext,
  sasl: string,
  scope: { delegated: string; application: string },
): Promise<string | undefined> {
  const decoded = Buffer.from(sasl, 'base64').toString('utf8');
  const [userPart, authPart, ...rest] = decoded.split('\u0001');
  if (
    !userPart?.startsWith('user=') ||
    !authPart?.startsWith('auth=Bearer ') ||
    rest.length !== 2 ||
    rest.join('') !== ''
  )
    return undefined;
  const user = userPart.slice(5).toLowerCase();
  const bearer = authPart.slice(12);
  let claims: Record<string, unknown>;
  try {
    claims = await ctx.keys.verify(bearer);
  } catch {
    return undefined;
  }
  if (!audienceIn(claims.aud, EXCHANGE_AUDIENCES, EXCHANGE_APP_ID)) return undefined;
  const tenant = typeof claims.tid === 'string' ? ctx.world.tenants.get(claims.tid) : undefined;
  if (!tenant) return undefined;
  const scp = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
  if (scp.includes(scope.delegated)) {
    const upn = typeof claims.upn === 'string' ? claims.upn : claims.preferred_username;
    if (typeof upn === 'string' && upn.toLowerCase() === user) return user;
    // A shared mailbox as the XOAUTH2 user, with the token of a user who has Full Access to it.
    const shared = tenant.mailboxes.find((b) => b.address === user);
    return shared?.fullAccess?.includes(String(claims.oid)) ? user : undefined;
  }
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const appId = typeof claims.appid === 'string' ? claims.appid : claims.azp;
  if (!roles.includes(scope.application)) return undefined;
  const mailbox = tenant.mailboxes.find((b) => b.address === user);
  return mailbox && !mailbox.deniedAppIds.includes(String(appId)) ? user : undefined;
}

export async function startImapServer(ctx: SimContext, tls: SandboxTls, port = 0): Promise<ImapServer> {
  const server: Server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (socket) =>
    session(ctx, socket),
  );
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `localhost:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function session(ctx: SimContext, socket: TLSSocket): void {
  socket.setEncoding('utf8');
  const send = (line: string): void => void socket.write(`${line}\r\n`);
  let buffer = '';
  let user: string | undefined;
  /** An AUTHENTICATE waiting for its SASL line after `+ `. */
  let awaiting: string | undefined;
  let busy = Promise.resolve();
  send('* OK The Microsoft Exchange IMAP4 service is ready.');

  const authenticate = async (tag: string, sasl: string) => {
    user = await xoauth2Mailbox(ctx, sasl, {
      delegated: 'IMAP.AccessAsUser.All',
      application: 'IMAP.AccessAsApp',
    });
    send(user ? `${tag} OK AUTHENTICATE completed.` : `${tag} NO AUTHENTICATE failed.`);
  };

  const command = async (line: string) => {
    if (awaiting !== undefined) {
      const tag = awaiting;
      awaiting = undefined;
      return authenticate(tag, line.trim());
    }
    const [tag = '*', verb = '', ...args] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'CAPABILITY':
        send(
          '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
        );
        return send(`${tag} OK CAPABILITY completed.`);
      case 'ID':
        send('* ID NIL');
        return send(`${tag} OK ID completed.`);
      case 'NOOP':
        return send(`${tag} OK NOOP completed.`);
      case 'AUTHENTICATE':
        if ((args[0] ?? '').toUpperCase() !== 'XOAUTH2')
          return send(`${tag} NO The AUTH protocol exchange was canceled by the client.`);
        if (args[1] !== undefined) return authenticate(tag, args[1]);
        awaiting = tag;
        return send('+ ');
      case 'SELECT':
      case 'EXAMINE':
        if (!user) return send(`${tag} BAD Command received in Invalid state.`);
        send('* 0 EXISTS');
        send('* 0 RECENT');
        send('* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)');
        send('* OK [UIDVALIDITY 14] UIDVALIDITY value');
        send('* OK [UIDNEXT 1] The next unique identifier value');
        return send(
          `${tag} OK [${verb.toUpperCase() === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] ${verb.toUpperCase()} completed.`,
        );
      case 'LIST':
        if (!user) return send(`${tag} BAD Command received in Invalid state.`);
        send('* LIST (\\HasNoChildren) "/" INBOX');
        return send(`${tag} OK LIST completed.`);
      case 'LOGOUT':
        send('* BYE Microsoft Exchange Server IMAP4 server signing off.');
        send(`${tag} OK LOGOUT completed.`);
        return void socket.end();
      default:
        return send(`${tag} BAD Command Error. 10`);
    }
  };

  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) return void socket.destroy();
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      busy = busy
        .then(() => command(line))
        .then(
          () => undefined,
          () => void socket.destroy(),
        );
    }
  });
  socket.on('error', () => undefined);
}
