/**
 * A line-based mail protocol session (IMAP, POP3, SMTP): CRLF lines handled one at a time in order, a bound on a
 * line's length, and for SMTP the STARTTLS upgrade of the same connection (RFC 3207).
 * @module
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SandboxTls } from '../common/ca.js';

/** At most this much of one command line is read (a token is a few KB). */
const MAX_LINE = 64 * 1024;

export interface Session {
  send(line: string): void;
  end(): void;
  /** Switches the connection to TLS as a server (STARTTLS), once the current reply is written. */
  startTls(): void;
  readonly secure: boolean;
}

export function lineSession(
  socket: Socket,
  tls: SandboxTls,
  secure: boolean,
  onLine: (line: string, session: Session) => Promise<void> | void,
): Session {
  let current: Socket = socket;
  let buffer = '';
  let busy = Promise.resolve();
  const listen = (s: Socket) => {
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE) return void s.destroy();
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        busy = busy
          .then(() => onLine(line, session))
          .then(
            () => undefined,
            () => void s.destroy(),
          );
      }
    });
    s.on('error', () => undefined);
  };
  const session: Session = {
    send: (line) => void current.write(`${line}\r\n`),
    end: () => void current.end(),
    startTls() {
      const plain = current;
      plain.removeAllListeners('data');
      buffer = '';
      const upgraded = new TLSSocket(plain, {
        isServer: true,
        cert: tls.serverCertPem,
        key: tls.serverKeyPem,
      });
      current = upgraded;
      (session as { secure: boolean }).secure = true;
      listen(upgraded);
    },
    secure,
  };
  listen(socket);
  return session;
}
