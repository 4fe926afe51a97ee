/**
 * An HTTP reverse proxy on loopback in front of Azurite that counts the requests it forwards: the broker is
 * given the proxy's address as its Table Storage endpoint, so every Table Storage operation it makes (one
 * HTTP request each; a `$batch` counts as one) is counted here, from outside the broker. Counts are kept by
 * method and table so that a run can say which operations the warm path still makes. The operations inside each
 * `$batch` (entity group transaction) are counted too, apart, for pricing that bills them per entity.
 * @module
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  readonly port: number;
  /** Requests forwarded since start, by `METHOD table` (e.g. `GET appliances`). */
  breakdown(): ReadonlyMap<string, number>;
  /** Entity operations inside the `$batch` requests forwarded since start (each batch also counts once above). */
  batchEntities(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<CountingProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const byKind = new Map<string, number>();
  let batchEntities = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const kind = `${req.method ?? '?'} ${tableOf(req.url ?? '/')}`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    if ((req.url ?? '').includes('$batch')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => (batchEntities += countBatchOperations(Buffer.concat(chunks).toString('utf8'))));
    }
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
    batchEntities: () => batchEntities,
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

/** The request lines of a `$batch` body's changesets (OData multipart: `MERGE http://… HTTP/1.1`). */
export function countBatchOperations(body: string): number {
  return body.match(/^(?:GET|POST|PUT|PATCH|MERGE|DELETE) \S+ HTTP\/1\.1\r?$/gm)?.length ?? 0;
}
