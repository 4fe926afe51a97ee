/**
 * The HTTP side of the local host: a `node:http` server that runs the `appStart` hooks, routes each request
 * to the function its route template and method select, gives the handler the library's `HttpRequest` and
 * `InvocationContext` (./request.ts), and writes its answer through the library's `HttpResponse`, as the
 * Functions host does; it also starts the timers (./timers.ts).
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpResponseInit } from '@azure/functions';
import { functionsLibrary, invoke, type Registry } from './core-module.js';
import { httpRequest, invocationContext, requestHeaders, requestUrl } from './request.js';
import { findRoute } from './routes.js';
import { scheduleTimer } from './timers.js';

export interface HostOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly log?: (line: string) => void;
}

export interface RunningHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The largest request body served; a larger one is refused with 413. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Runs the appStart hooks, then serves the HTTP functions and schedules the timers. */
export async function startFunctionsHost(options: HostOptions): Promise<RunningHost> {
  const { registry } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  for (const hook of registry.hooks.get('appStart') ?? []) {
    await hook({ hookData: {}, functionAppDirectory: process.cwd() });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url ?? '/', req.headers.host);
    if (!url) {
      // Kestrel, in front of the Functions host, refuses a request target or Host that makes no URL.
      res.writeHead(400).end();
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const hit = findRoute(registry.http, method, url.pathname);
    if (!hit) {
      // The Functions host answers 404 with an empty body both for an unknown route and for a method the
      // route was not registered with.
      res.writeHead(404).end();
      return;
    }
    const body = await readBody(req, res);
    if (!body) return;
    const request = httpRequest({
      method,
      url,
      headers: requestHeaders(req.headers, req.socket.remoteAddress ?? 'unknown'),
      params: hit.params,
      body,
    });
    const context = invocationContext(hit.f.name, log);
    try {
      const result = await invoke(registry, hit.f.handler, [request, context], context);
      await writeReply(res, result ?? { status: 204 });
    } catch (err) {
      // As the Functions host does: an unhandled error is a bare 500, details only in the log.
      context.error(`unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      log(
        `[host] ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`PORT ${options.port} is already in use: stop the other process or set PORT`)
          : err,
      ),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });

  const timers = registry.timers.map((t) => scheduleTimer(registry, t, log));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    close: async () => {
      for (const stop of timers) stop();
      for (const hook of registry.hooks.get('appTerminate') ?? []) {
        await Promise.resolve(hook({ hookData: {} })).catch((err: unknown) =>
          log(`[host] appTerminate hook failed: ${String(err)}`),
        );
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The request body; undefined when it was over the limit and has been answered with 413. */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('Request body too large');
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A handler's answer (an `HttpResponse` or an `HttpResponseInit`) written through the library's HttpResponse. */
async function writeReply(res: ServerResponse, result: unknown): Promise<void> {
  const { HttpResponse } = functionsLibrary();
  const response = result instanceof HttpResponse ? result : new HttpResponse(result as HttpResponseInit);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers).end(body);
}
