/**
 * An HTTP reverse proxy on loopback in front of Azurite that counts the requests it forwards: the broker is
 * given the proxy's address as its Table Storage endpoint, so every Table Storage operation it makes (one
 * HTTP request each; a `$batch` counts as one) is counted here, from outside the broker. Counts are kept by
 * method and table so that a run can say which operations the warm path still makes.
 * @module
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  readonly port: number;
  /** Requests forwarded since start, by `METHOD table` (e.g. `GET appliances`). */
  breakdown(): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export async function startCountingProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<CountingProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const byKind = new Map<string, number>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const kind = `${req.method ?? '?'} ${tableOf(req.url ?? '/')}`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    const upstream = request(
      {
        host: targetHost,
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    breakdown: () => new Map(byKind),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** `/devstoreaccount1/tenants(PartitionKey='…',RowKey='…')?…` → `tenants`. */
function tableOf(url: string): string {
  const path = url.split('?')[0] ?? '';
  const segment = path.split('/')[2] ?? '';
  return segment.replace(/\(.*$/, '') || '(service)';
}
