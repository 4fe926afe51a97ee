/**
 * A stand-in for Application Insights ingestion (Breeze `/v2.1/track`): HTTPS with the sandbox CA (the exporter
 * turns an http endpoint into https, `npm:@azure/monitor-opentelemetry-exporter@1.0.0-beta.47:dist/esm/utils/
 * connectionStringParser.js`), answering as Breeze does and keeping every body, for the tests that look at what
 * the broker sends (test/integration/telemetry-export.test.ts, test/infra/package.test.ts).
 * @module
 */
import { createServer } from 'node:https';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inject } from 'vitest';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export interface Ingestion {
  /** The connection string that sends this process's or a child's telemetry here. */
  readonly connectionString: string;
  /** Every request received, in order. */
  readonly received: readonly Received[];
  /** Every envelope sent to `/v2.1/track`. */
  envelopes(): Record<string, unknown>[];
  close(): Promise<void>;
}

export const INSTRUMENTATION_KEY = 'd0c1a5e4-7b2f-4c3d-9e8a-1f2b3c4d5e6f';

export async function startIngestion(): Promise<Ingestion> {
  const received: Received[] = [];
  const tls = await loadOrCreateSandboxTls(join(dirname(inject('caBundlePath')), 'tls'));
  const server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      if (/\/v2(\.1)?\/track$/.test(req.url ?? '')) {
        const items = body.trim().startsWith('[') ? (JSON.parse(body) as unknown[]).length : 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: items, itemsAccepted: items, errors: [] }));
      } else {
        // Live Metrics: "not subscribed", so an exporter would only ping.
        res.writeHead(200, { 'content-type': 'application/json', 'x-ms-qps-subscribed': 'false' });
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = `https://localhost:${port}`;
  return {
    connectionString: `InstrumentationKey=${INSTRUMENTATION_KEY};IngestionEndpoint=${url}/;LiveEndpoint=${url}/`,
    received,
    envelopes: () =>
      received
        .filter((r) => /\/track$/.test(r.path))
        .flatMap((r) =>
          r.body.trim().startsWith('[')
            ? (JSON.parse(r.body) as Record<string, unknown>[])
            : r.body
                .split('\n')
                .filter((l) => l.trim())
                .map((l) => JSON.parse(l) as Record<string, unknown>),
        ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An envelope's `data.baseData`. */
export const baseData = (e: Record<string, unknown>): Record<string, unknown> =>
  (e.data as { baseData: Record<string, unknown> } | undefined)?.baseData ?? {};

/** Settings that keep the exporter from reporting its own usage to Microsoft's endpoints, and trace everything. */
export const TEST_TELEMETRY_SETTINGS = {
  APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
  APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
  OTEL_TRACES_SAMPLER: 'always_on',
} as const;
