/**
 * The MSAL adapter's own HTTP client (msal-network.ts `EntraNetwork`, `node:http(s)` with keep-alive) against a
 * server that answers the way Entra never should: too much, too late, not JSON. Real MSAL, real sockets,
 * HTTPS with the sandbox CA (MSAL refuses an http authority); the authority metadata is well-formed so that
 * MSAL goes on to the token request.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';
import { APP_TOKEN_DEADLINE_MS } from '../../src/adapters/entra/acquire-deadline.js';
import { createMsalEntraTokens } from '../../src/adapters/entra/msal.js';
import { EntraRefused, EntraUnavailable } from '../../src/adapters/entra/port.js';

const TENANT = 'b8a4e1f0-3c2d-4e5f-9a8b-7c6d5e4f3a2b';
const EXO = 'https://outlook.office365.com/.default';

type Behaviour = 'huge' | 'hang' | 'text' | 'cut' | 'ok';
let behaviour: Behaviour = 'ok';
let tokenRequests = 0;
let server: Server;
let origin: string;

function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const base = `${origin}/${TENANT}`;
    if (req.url?.endsWith('/.well-known/openid-configuration')) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          jwks_uri: `${origin}/${TENANT}/discovery/v2.0/keys`,
        }),
      );
      return;
    }
    tokenRequests += 1;
    if (behaviour === 'hang') return; // never answers
    if (behaviour === 'cut') {
      // Headers and part of the body, then the connection is gone.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
      res.write('{"token_type":"Bearer","access_token":"eyJ');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (behaviour === 'text') {
      res.setHeader('content-type', 'text/html');
      res.end('<html>maintenance</html>');
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (behaviour === 'huge') {
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'a'.repeat(2 << 20) }));
      return;
    }
    res.statusCode = 400;
    res.end(
      JSON.stringify({
        error: 'invalid_client',
        error_codes: [7000229],
        error_description: 'AADSTS7000229: x',
      }),
    );
  });
}

beforeAll(async () => {
  const tls = await loadOrCreateSandboxTls(inject('sandboxTlsDir'));
  server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  origin = `https://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function tokens(timeoutMs = 10_000) {
  return createMsalEntraTokens({
    authorityHost: origin,
    clientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
    credential: { kind: 'secret', secret: 'not-a-real-secret' },
    timeoutMs,
  });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('the Entra adapter’s HTTP client', () => {
  it('refuses an answer of more than 1 MiB without holding it', async () => {
    behaviour = 'huge';
    const err = await failure(tokens().acquireAppToken(TENANT, EXO));
    expect(err).toBeInstanceOf(EntraRefused);
    expect(err).toMatchObject({ error: 'invalid_response' });
    expect((err as Error).message).toMatch(/more than 1 MiB/);
  });

  it('gives up on an answer that does not come within its timeout: EntraUnavailable, never a hang', async () => {
    behaviour = 'hang';
    const started = Date.now();
    const err = await failure(tokens(500).acquireAppToken(TENANT, EXO));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(EntraUnavailable);
    expect((err as Error).message).toBe('Entra ID unreachable: TimeoutError');
    expect((err as EntraUnavailable).retryAfterSeconds).toBe(5);
  });

  it('settles within its 4 s deadline, all requests together, when Entra accepts connections and never answers', async () => {
    // A hanging Entra: TCP accepted, no TLS handshake, no answer, for the metadata request as for the token one.
    const sockets = new Set<Socket>();
    const hanging = createTcpServer((socket) => sockets.add(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as { port: number };
    try {
      const client = createMsalEntraTokens({
        authorityHost: `https://127.0.0.1:${port}`,
        clientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
        credential: { kind: 'secret', secret: 'not-a-real-secret' },
      });
      const started = performance.now();
      const err = await failure(client.acquireAppToken(TENANT, EXO));
      const elapsed = performance.now() - started;
      expect(err).toBeInstanceOf(EntraUnavailable);
      expect((err as EntraUnavailable).retryAfterSeconds).toBe(5);
      expect(elapsed).toBeGreaterThanOrEqual(APP_TOKEN_DEADLINE_MS - 50);
      expect(elapsed).toBeLessThan(APP_TOKEN_DEADLINE_MS + 500);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    }
  }, 20_000);

  it('gives the token request only what the metadata request left of the deadline', async () => {
    behaviour = 'hang'; // metadata answers at once, the token request never
    const started = performance.now();
    const err = await failure(
      createMsalEntraTokens({
        authorityHost: origin,
        clientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
        credential: { kind: 'secret', secret: 'not-a-real-secret' },
        timeoutMs: 10_000,
        deadlineMs: 1_000,
      }).acquireAppToken(TENANT, EXO),
    );
    expect(err).toBeInstanceOf(EntraUnavailable);
    expect(performance.now() - started).toBeLessThan(1_500);
  }, 20_000);

  it('treats an answer cut off mid-body as Entra unreachable, not as an answer', async () => {
    behaviour = 'cut';
    const err = await failure(tokens().acquireAppToken(TENANT, EXO));
    expect(err).toBeInstanceOf(EntraUnavailable);
    expect((err as Error).message).toMatch(/^Entra ID unreachable: (ECONNRESET|aborted)$/);
  });

  it('refuses an answer that is not JSON', async () => {
    behaviour = 'text';
    const err = await failure(tokens().acquireAppToken(TENANT, EXO));
    expect(err).toBeInstanceOf(EntraRefused);
    expect((err as Error).message).toBe('Entra ID answered HTTP 200 without JSON');
  });

  it('reuses its connections: many token requests, one keep-alive connection per concurrent request', async () => {
    behaviour = 'ok';
    let connections = 0;
    const count = () => (connections += 1);
    server.on('connection', count);
    try {
      const client = tokens();
      const before = tokenRequests;
      for (let i = 0; i < 5; i++) {
        const err = await failure(client.acquireAppToken(TENANT, EXO, { fresh: true }));
        expect(err).toMatchObject({ aadsts: '7000229' });
      }
      expect(tokenRequests - before).toBe(5);
      // The metadata request and five token requests, one after the other, on one connection.
      expect(connections).toBe(1);
    } finally {
      server.off('connection', count);
    }
  });
});
