/**
 * The IMAP login of `MailboxLogin` (port.ts) over TLS (Exchange Online: the EWS host, port 993): read the
 * greeting, `A1 AUTHENTICATE XOAUTH2 <initial response>` (RFC 4959 SASL-IR, which Exchange advertises), then
 * `A2 LOGOUT`. Bounded in time; the token is never logged or put in an error.
 * @module
 */
import { connect } from 'node:tls';
import { MailProtocolUnavailable, type MailboxLogin } from './port.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_REPLY = 64 * 1024;

export function createImapLogin(options: {
  readonly address: string;
  readonly timeoutMs?: number;
}): MailboxLogin {
  const [host = '', portText = '993'] = splitAddress(options.address);
  const port = Number(portText);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    imapLogin: (mailbox, accessToken) =>
      new Promise((resolve, reject) => {
        const sasl = Buffer.from(`user=${mailbox}\u0001auth=Bearer ${accessToken}\u0001\u0001`).toString(
          'base64',
        );
        const socket = connect({ host, port, servername: host });
        let buffer = '';
        let step: 'greeting' | 'login' | 'logout' = 'greeting';
        let outcome: 'ok' | 'refused' | undefined;
        const fail = (why: string, cause?: unknown) => {
          socket.destroy();
          reject(new MailProtocolUnavailable(5, `Exchange Online IMAP: ${why}`, { cause }));
        };
        const timer = setTimeout(() => fail('no answer in time'), timeoutMs);
        timer.unref?.();
        const done = () => {
          clearTimeout(timer);
          socket.destroy();
          resolve(outcome!);
        };
        socket.setEncoding('utf8');
        socket.on('error', (err) => {
          clearTimeout(timer);
          if (outcome !== undefined) resolve(outcome);
          else fail('connection failed', err);
        });
        socket.on('close', () => {
          clearTimeout(timer);
          if (outcome !== undefined) resolve(outcome);
          else fail('connection closed');
        });
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.length > MAX_REPLY) return fail('answer too long');
          let end: number;
          while ((end = buffer.indexOf('\r\n')) >= 0) {
            const line = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (step === 'greeting') {
              if (!line.startsWith('* OK')) return fail('no greeting');
              step = 'login';
              socket.write(`A1 AUTHENTICATE XOAUTH2 ${sasl}\r\n`);
            } else if (step === 'login') {
              // A continuation here carries the server's error details (XOAUTH2): answer it empty to get the NO.
              if (line.startsWith('+')) socket.write('\r\n');
              else if (line.startsWith('A1 ')) {
                outcome = /^A1 OK\b/i.test(line) ? 'ok' : 'refused';
                step = 'logout';
                socket.write('A2 LOGOUT\r\n');
              }
            } else if (line.startsWith('A2 ')) return done();
          }
        });
      }),
  };
}

/** `host:port`, or a bracketed IPv6 address with its port. */
function splitAddress(address: string): [string, string] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  return m ? [m[1]!, m[2]!] : [address, '993'];
}
