/**
 * A TLS-terminating front on loopback, as Azure's front end stands before the Functions host: it serves the
 * sandbox CA's localhost certificate and forwards each request to the broker over plain HTTP, appending the
 * caller's address to X-Forwarded-For. For clients that refuse an http authority (MSAL: "Authority URIs
 * must use https").
 * @module
 */
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';

export interface HttpsFront {
  /** `https://localhost:{port}` */
  readonly url: string;
  /** Where requests go; set once the broker is up. */
  target: string | undefined;
  /** `METHOD path` of each request seen, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

export async function startHttpsFront(): Promise<HttpsFront> {
  const tls = await loadOrCreateSandboxTls(inject('sandboxTlsDir'));
  const front: { target: string | undefined; seen: string[] } = { target: undefined, seen: [] };
  const server: Server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (req, res) => {
    front.seen.push(`${req.method} ${req.url}`);
    if (!front.target) {
      res.writeHead(502).end();
      return;
    }
    const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = httpRequest(
      new URL(req.url ?? '/', front.target),
      { method: req.method, headers: { ...req.headers, 'x-forwarded-for': forwarded } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  // Every address: `localhost` may resolve to ::1 or to 127.0.0.1.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(front, {
    url: `https://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
