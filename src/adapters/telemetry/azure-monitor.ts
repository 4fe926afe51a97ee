/**
 * Starts the Azure Monitor OpenTelemetry distro (`@azure/monitor-opentelemetry`) when the broker has an
 * Application Insights connection string: traces of the HTTP requests this process serves and makes (and of
 * the Azure SDK calls), the broker's metrics (otel-metrics.ts), standard and live metrics. Called by
 * functions/telemetry.ts before the rest of the app is loaded: "useAzureMonitor must be called before you
 * import anything else" (https://learn.microsoft.com/javascript/api/overview/azure/monitor-opentelemetry-readme).
 * In a Functions app the distro also propagates the host's trace context into each invocation through a
 * `preInvocation` hook (`npm:@azure/monitor-opentelemetry@1.21.0:dist/esm/traces/azureFnHook.js`).
 *
 * No secret reaches telemetry (SPEC.md "Guarantees"):
 * - HTTP headers are recorded only when named in `headersToSpanAttributes`, which is left unset
 *   (https://www.npmjs.com/package/@opentelemetry/instrumentation-http, "headersToSpanAttributes"): the
 *   token endpoint's `Authorization` header is never read.
 * - Request bodies are never read by the HTTP instrumentation (client secrets and assertions come in the form).
 * - URLs: instrumentation-http 0.221 records an incoming request's `url.path` and `url.query` (the query as
 *   sent: `/consent/signin?code=…&state=…`), and an outgoing one's `url.full` with only a fixed list of query
 *   keys redacted (`sig`, `X-Goog-Signature`…: `npm:@opentelemetry/instrumentation-http@0.221.0:build/src/
 *   utils.js` getIncomingRequestAttributes, getAbsoluteUrl). The exporter builds a request's `url` from
 *   `url.full`, or scheme + host + `url.path`, and leaves `url.*` out of the custom properties
 *   (`npm:@azure/monitor-opentelemetry-exporter@1.0.0-beta.47:dist/esm/utils/common.js` getUrl, `types.js`
 *   httpSemanticValues): today a query would not be sent, but the consent link's code in `/connect/{code}`
 *   would (test/integration/telemetry-export.test.ts fails without this processor). `redactingSpanProcessor`
 *   rewrites, when a span starts (its attributes are still writable; the distro's own processor reads them when
 *   it ends, for Live Metrics too), every URL attribute: a query becomes `REDACTED` and the consent link's code
 *   `{code}`, so that neither depends on the exporter's mapping.
 * @module
 */
import type * as AzureMonitorDistro from '@azure/monitor-opentelemetry';
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import { createRequire } from 'node:module';
import type { TelemetryConfig } from '../../config.js';

type SpanProcessor = NonNullable<AzureMonitorOpenTelemetryOptions['spanProcessors']>[number];
type StartedSpan = Parameters<SpanProcessor['onStart']>[0];

/** The word put in place of a redacted value (instrumentation-http uses the same). */
export const REDACTED = 'REDACTED';

/** Path segments that are credentials: the consent link's code (docs/decisions.md "Consent links"). */
const SECRET_PATHS: readonly [RegExp, string][] = [[/^(\/connect\/)[^/]+/i, '$1{code}']];

/** `path` with every secret segment replaced. */
export function redactPath(path: string): string {
  let out = path;
  for (const [pattern, replacement] of SECRET_PATHS) out = out.replace(pattern, replacement);
  return out;
}

/** A path with its query (`/a?b=c`, `http.target`), or an absolute URL (`url.full`, `http.url`), redacted. */
export function redactUrl(value: string): string {
  const q = value.search(/[?#]/);
  const beforeQuery = q < 0 ? value : value.slice(0, q);
  const query = q < 0 || value[q] === '#' ? '' : `?${REDACTED}`;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(beforeQuery);
  if (!absolute) return redactPath(beforeQuery) + query;
  // No user:password@ in the authority.
  const authority = absolute[0].replace(/\/\/[^@/]*@/, '//');
  return authority + redactPath(beforeQuery.slice(absolute[0].length)) + query;
}

/** URL attributes of the stable (`url.*`) and the older (`http.*`) HTTP semantic conventions. */
const URL_ATTRIBUTES = ['url.full', 'http.url', 'http.target'] as const;

/** Rewrites the URL attributes of a starting span so that no query value or secret path segment is kept. */
export function redactingSpanProcessor(): SpanProcessor {
  return {
    onStart(span: StartedSpan) {
      const attrs = span.attributes;
      const query = attrs['url.query'];
      if (typeof query === 'string' && query !== '') span.setAttribute('url.query', REDACTED);
      const path = attrs['url.path'];
      if (typeof path === 'string') {
        const redacted = redactPath(path);
        if (redacted !== path) span.setAttribute('url.path', redacted);
      }
      for (const key of URL_ATTRIBUTES) {
        const value = attrs[key];
        if (typeof value === 'string') {
          const redacted = redactUrl(value);
          if (redacted !== value) span.setAttribute(key, redacted);
        }
      }
    },
    onEnd: () => undefined,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

let distro: typeof AzureMonitorDistro | undefined;

/**
 * Starts the distro once per process when a connection string is set; otherwise does nothing, and the
 * OpenTelemetry API stays a no-op. Returns whether telemetry is exported.
 *
 * The distro is loaded only then, and synchronously (its CommonJS build): loading it takes ~0.9 s, which a
 * broker without telemetry should not pay at every cold start, and an `await import()` would let the modules
 * imported next to functions/telemetry.ts run before it (an awaiting module holds back only its importers).
 */
export function startAzureMonitor(config: TelemetryConfig): boolean {
  const connectionString = config.applicationInsightsConnectionString;
  if (connectionString === undefined) return false;
  if (distro) return true;
  distro = createRequire(import.meta.url)('@azure/monitor-opentelemetry') as typeof AzureMonitorDistro;
  distro.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    spanProcessors: [redactingSpanProcessor()],
  });
  return true;
}

/** Sends what is buffered (spans every 5 s, metrics every 60 s) and stops: for the instance's shutdown. */
export async function stopAzureMonitor(): Promise<void> {
  const running = distro;
  distro = undefined;
  await running?.shutdownAzureMonitor();
}
