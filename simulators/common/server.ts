/**
 * A small HTTPS server for the simulators: exact-path routing with `{param}` segments, fault injection
 * from the World, and bodies read with a size limit. A handler that throws yields the service's own
 * error shape (through `onError`), never a stack trace.
 * @module
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SandboxTls } from './ca.js';
import type { SimTarget, World } from './world.js';

export interface SimRequest {
  readonly method: string;
  readonly url: URL;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly headers: IncomingMessage['headers'];
  /** The raw body as text (at most 1 MiB; larger bodies are refused before the handler runs). */
  readonly body: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as given (set content-type in headers). */
  body?: unknown;
}

export type SimHandler = (req: SimRequest) => Promise<SimResponse> | SimResponse;

export interface SimRoute {
  readonly method: string;
  /** e.g. `/{tenant}/oauth2/v2.0/token`; a segment `{name}` matches one non-empty path segment. */
  readonly path: string;
  readonly handler: SimHandler;
}

export interface SimServerOptions {
  readonly name: SimTarget | 'control';
  readonly tls: SandboxTls;
  readonly world: World;
  readonly routes: readonly SimRoute[];
  /** The service's error body for a status (used for faults, 404s and thrown errors). */
  readonly errorBody: (status: number, message: string) => SimResponse;
  readonly port?: number;
}

export interface SimServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const compiled = options.routes.map((r) => ({ ...r, match: compilePath(r.path) }));
  const sockets = new Set<Duplex>();
  let server: Server = createHttpsServer();
  let refusing = false;

  function createHttpsServer(): Server {
    const s = createServer({ cert: options.tls.serverCertPem, key: options.tls.serverKeyPem }, (req, res) => {
      void handle(req, res);
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    s.keepAliveTimeout = 5_000;
    return s;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    try {
      const body = await readBody(req);
      if (body === undefined) return send(res, options.errorBody(413, 'Request body too large'));
      if (options.name !== 'control') {
        const fault = options.world.takeFault(options.name, url.pathname, body);
        if (fault) {
          switch (fault.kind) {
            case 'reset':
              req.socket.destroy();
              return;
            case 'refuse':
              await refuseConnections();
              req.socket.destroy();
              return;
            case 'slow':
              await new Promise((r) => setTimeout(r, fault.delayMs ?? 1_000));
              break;
            case 'throttle': {
              const r = options.errorBody(429, 'Too many requests');
              return send(res, {
                ...r,
                headers: { ...r.headers, 'retry-after': String(fault.retryAfterSeconds ?? 1) },
              });
            }
            case 'status': {
              const r = options.errorBody(fault.status ?? 503, 'Injected fault');
              const retry: Record<string, string> =
                fault.retryAfterSeconds !== undefined
                  ? { 'retry-after': String(fault.retryAfterSeconds) }
                  : {};
              return send(res, { ...r, headers: { ...r.headers, ...retry } });
            }
          }
        }
      }
      const method = req.method ?? 'GET';
      let pathMatched = false;
      for (const route of compiled) {
        const params = route.match(url.pathname);
        if (!params) continue;
        pathMatched = true;
        if (route.method !== method) continue;
        const response = await route.handler({
          method,
          url,
          path: url.pathname,
          params,
          headers: req.headers,
          body,
        });
        return send(res, response);
      }
      send(
        res,
        options.errorBody(pathMatched ? 405 : 404, pathMatched ? 'Method not allowed' : 'Resource not found'),
      );
    } catch (err) {
      // The client went away (e.g. it gave up during a `slow` fault): nothing to answer, nothing to report.
      if (req.destroyed || res.destroyed || (err instanceof Error && err.message === 'aborted')) return;
      // A simulator bug must not show a stack trace; log it for the developer and answer like the service.
      console.error(`[${options.name}-simulator] ${req.method} ${url.pathname}:`, err);
      if (!res.headersSent) send(res, options.errorBody(500, 'Internal server error'));
      else res.destroy();
    }
  }

  async function refuseConnections(): Promise<void> {
    if (refusing) return;
    refusing = true;
    await new Promise<void>((r) => server.close(() => r()));
  }

  async function listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  const port = await listen(options.port ?? 0);
  // Resume listening once a `refuse` fault has been cleared.
  const watcher = setInterval(() => {
    if (refusing && !options.world.faults.some((f) => f.target === options.name && f.kind === 'refuse')) {
      refusing = false;
      server = createHttpsServer();
      listen(port).catch((err: unknown) =>
        console.error(`[${options.name}-simulator] cannot listen again:`, err),
      );
    }
  }, 50);
  watcher.unref();

  return {
    url: `https://localhost:${port}`,
    port,
    close: async () => {
      clearInterval(watcher);
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function compilePath(pattern: string): (path: string) => Record<string, string> | undefined {
  const parts = pattern.split('/');
  return (path) => {
    const segs = path.split('/');
    if (segs.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const s = segs[i]!;
      if (p.startsWith('{') && p.endsWith('}')) {
        if (!s) return undefined;
        try {
          params[p.slice(1, -1)] = decodeURIComponent(s);
        } catch {
          return undefined;
        }
      } else if (p.toLowerCase() !== s.toLowerCase()) return undefined;
    }
    return params;
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: SimResponse): void {
  const headers: Record<string, string> = { ...r.headers };
  let payload: string | undefined;
  if (r.body === undefined) payload = undefined;
  else if (typeof r.body === 'string') payload = r.body;
  else {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

/** Parses an application/x-www-form-urlencoded body; repeated keys are kept (Entra refuses them). */
export function parseForm(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, body, headers };
}
