/**
 * Logins to Exchange Online's mail protocols as a PBX makes them (`MailProtocols`, port.ts), each step (connect,
 * greeting, STARTTLS, AUTH, command) bounded in time on its own, nothing read or sent beyond a harmless command:
 * - IMAP over TLS: greeting, `AUTHENTICATE XOAUTH2 <initial response>` (RFC 4959 SASL-IR), `EXAMINE INBOX`, LOGOUT;
 * - POP3 over TLS: greeting, `AUTH XOAUTH2 <initial response>` (RFC 5034), `STAT`, QUIT;
 * - SMTP submission: greeting, EHLO, STARTTLS (RFC 3207), EHLO, `AUTH XOAUTH2 <initial response>` (RFC 4954), QUIT —
 *   no MAIL FROM, no message.
 * SASL XOAUTH2 is `user=<mailbox>^Aauth=Bearer <token>^A^A`, base64
 * (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
 * The answer says at which step it stopped and Exchange's reply line there, for support to classify; the token
 * never reaches a reply, an error or a log.
 * @module
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { MailProtocolUnavailable, type MailProbe, type MailProtocol, type MailProtocols } from './port.js';

/** Each step (connect, greeting, STARTTLS, AUTH, the command) must answer within this time. */
const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const MAX_REPLY = 64 * 1024;

export interface MailProbeOptions {
  /** `host:port` of each protocol (EXCHANGE_IMAP_HOST, EXCHANGE_POP_HOST, EXCHANGE_SMTP_HOST). */
  readonly addresses: Readonly<Record<MailProtocol, string>>;
  /** Time allowed to each step; a login of n steps takes at most n times this. */
  readonly stepTimeoutMs?: number;
}

/** A line reader over a socket that can be upgraded to TLS (SMTP's STARTTLS). */
class Lines {
  private buffer = '';
  private waiting: ((line: string) => void) | undefined;
  private failed: ((err: Error) => void) | undefined;
  private readonly queue: string[] = [];
  constructor(private socket: Socket) {
    this.attach(socket);
  }
  private attach(s: Socket) {
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      this.buffer += chunk;
      if (this.buffer.length > MAX_REPLY) return this.fail(new Error('answer too long'));
      let end: number;
      while ((end = this.buffer.indexOf('\r\n')) >= 0) {
        this.queue.push(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 2);
      }
      this.flush();
    });
    s.on('error', (err) => this.fail(err));
    s.on('close', () => this.fail(new Error('connection closed')));
  }
  private flush() {
    if (this.waiting && this.queue.length) {
      const w = this.waiting;
      this.waiting = undefined;
      this.failed = undefined;
      w(this.queue.shift()!);
    }
  }
  private fail(err: Error) {
    const f = this.failed;
    this.waiting = undefined;
    this.failed = undefined;
    f?.(err);
  }
  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.flush();
    });
  }
  write(line: string) {
    this.socket.write(`${line}\r\n`);
  }
  upgrade(host: string): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    return new Promise((resolve, reject) => {
      const tls: TLSSocket = connectTls({ socket: plain, servername: host }, () => resolve());
      tls.once('error', reject);
      this.socket = tls;
      this.attach(tls);
    });
  }
  close() {
    this.socket.destroy();
  }
}

/** The next line whose prefix ends a reply: IMAP's tagged line, SMTP's `NNN ` (not `NNN-`), POP's first. */
async function reply(lines: Lines, done: (line: string) => boolean): Promise<string> {
  for (;;) {
    const line = await lines.next();
    if (done(line)) return line;
  }
}

export function createMailProbes(options: MailProbeOptions): MailProtocols {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  return {
    probe: (protocol, mailbox, accessToken) => {
      const [host, port] = split(options.addresses[protocol]);
      const sasl = Buffer.from(`user=${mailbox}\u0001auth=Bearer ${accessToken}\u0001\u0001`).toString(
        'base64',
      );
      let step: MailProbe['step'] = 'connect';
      let lines: Lines | undefined;
      // One timer per step: `at` moves to the next step and gives it its own time.
      let timer: ReturnType<typeof setTimeout> | undefined;
      let expire: (err: Error) => void = () => undefined;
      const deadline = new Promise<never>((_, reject) => (expire = reject));
      const at = (next: MailProbe['step']) => {
        step = next;
        clearTimeout(timer);
        timer = setTimeout(() => expire(new Error(`no answer in ${stepTimeoutMs} ms`)), stepTimeoutMs);
        timer.unref?.();
      };
      at('connect');
      const run = async (): Promise<MailProbe> => {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s =
            protocol === 'smtp'
              ? connectTcp({ host, port }, () => resolve(s))
              : connectTls({ host, port, servername: host }, () => resolve(s));
          s.once('error', reject);
        });
        lines = new Lines(socket);
        at('greeting');
        const greeting = await lines.next();
        const refused = (reply: string): MailProbe => ({ protocol, outcome: 'refused', step, reply });
        if (protocol === 'imap') {
          if (!greeting.startsWith('* OK')) return refused(greeting);
          at('auth');
          lines.write(`A1 AUTHENTICATE XOAUTH2 ${sasl}`);
          let auth = await reply(lines, (l) => l.startsWith('A1 ') || l.startsWith('+'));
          // A continuation carries the server's error details (XOAUTH2): answered empty, the NO follows.
          if (auth.startsWith('+')) {
            lines.write('');
            auth = await reply(lines, (l) => l.startsWith('A1 '));
          }
          if (!/^A1 OK\b/i.test(auth)) return refused(auth);
          at('command');
          lines.write('A2 EXAMINE INBOX');
          const examined = await reply(lines, (l) => l.startsWith('A2 '));
          lines.write('A3 LOGOUT');
          return /^A2 OK\b/i.test(examined)
            ? { protocol, outcome: 'ok', step, reply: examined }
            : refused(examined);
        }
        if (protocol === 'pop') {
          if (!greeting.startsWith('+OK')) return refused(greeting);
          at('auth');
          lines.write(`AUTH XOAUTH2 ${sasl}`);
          let auth = await lines.next();
          if (auth.startsWith('+ ') || auth === '+') {
            lines.write('');
            auth = await lines.next();
          }
          if (!auth.startsWith('+OK')) return refused(auth);
          at('command');
          lines.write('STAT');
          const stat = await lines.next();
          lines.write('QUIT');
          return stat.startsWith('+OK') ? { protocol, outcome: 'ok', step, reply: stat } : refused(stat);
        }
        // SMTP submission.
        const smtpReply = () => reply(lines!, (l) => /^\d{3}( |$)/.test(l));
        const first = /^\d{3}-/.test(greeting) ? await smtpReply() : greeting;
        if (!first.startsWith('220')) return refused(first);
        lines.write('EHLO consent-broker');
        const ehlo = await smtpReply();
        if (!ehlo.startsWith('250')) return refused(ehlo);
        at('starttls');
        lines.write('STARTTLS');
        const tls = await smtpReply();
        if (!tls.startsWith('220')) return refused(tls);
        await lines.upgrade(host);
        lines.write('EHLO consent-broker');
        const secured = await smtpReply();
        if (!secured.startsWith('250')) return refused(secured);
        at('auth');
        lines.write(`AUTH XOAUTH2 ${sasl}`);
        let auth = await smtpReply();
        if (auth.startsWith('334')) {
          lines.write('');
          auth = await smtpReply();
        }
        lines.write('QUIT');
        return auth.startsWith('235') ? { protocol, outcome: 'ok', step, reply: auth } : refused(auth);
      };
      return Promise.race([run(), deadline])
        .catch((err: unknown) => {
          // Exchange could not be asked: a step that did not answer, not a refusal.
          const why = err instanceof Error && err.message.startsWith('no answer') ? err.message : 'failed';
          throw new MailProtocolUnavailable(5, `Exchange Online ${protocol.toUpperCase()}: ${step} ${why}`, {
            cause: err,
          });
        })
        .finally(() => {
          clearTimeout(timer);
          lines?.close();
        });
    },
  };
}

/** `host:port`, or a bracketed IPv6 address with its port. */
function split(address: string): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new RangeError(`not host:port: ${address}`);
  return [m[1]!, Number(m[2])];
}
