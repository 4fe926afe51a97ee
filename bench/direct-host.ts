/**
 * A diagnosis target, not part of the product: the broker's own token endpoint (src/http/token-endpoint.ts,
 * `handleTokenRequest` with a broker from `createBroker`, exactly what functions/token.ts calls) behind a
 * bare `node:http` server, without the Functions programming model's `HttpRequest`/`HttpResponse` (undici
 * Request/Response and web streams) that local/functions-host.ts builds per request. `npm run bench --
 * --direct` measures it next to the real vend path, to tell the cost of the broker's logic from the cost of
 * the hosting adapter. Same settings as the broker (environment); serves only `POST /oauth2/token`.
 * @module
 */
import { createServer } from 'node:http';
import { createBroker } from '../src/broker.js';
import { loadConfigFromEnvironment } from '../src/config.js';
import { handleTokenRequest } from '../src/http/token-endpoint.js';
import type { HttpRequestLike } from '../src/http/types.js';

async function main(): Promise<void> {
  const broker = await createBroker(loadConfigFromEnvironment());
  const port = Number(process.env.PORT);
  const logger = {
    log: () => undefined,
    warn: () => undefined,
    error: (...a: unknown[]) => console.error(...a),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/oauth2/token') {
        res.writeHead(404).end();
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const request: HttpRequestLike = {
        method: 'POST',
        url: `${broker.config.publicUrl}/oauth2/token`,
        headers: {
          get: (name) => {
            const n = name.toLowerCase();
            if (n === 'x-forwarded-for') return req.socket.remoteAddress ?? null;
            const v = req.headers[n];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        },
        params: {},
        text: () => Promise.resolve(text),
      };
      handleTokenRequest(broker, request, logger).then(
        (reply) => res.writeHead(reply.status, reply.headers).end(reply.body),
        () => res.writeHead(500).end(),
      );
    });
  });
  server.listen(port, '127.0.0.1', () =>
    console.log(`[host] serving the token endpoint directly on ${port}`),
  );
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(`direct-host: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
