/**
 * Sends traces and the broker's metrics to Application Insights when the broker has a connection string, with
 * the smallest OpenTelemetry set that does so, not the Azure Monitor distro (`@azure/monitor-opentelemetry`):
 * the distro loads every instrumentation it knows (MongoDB, MySQL, PostgreSQL, Redis, Bunyan, Winston), the OTLP,
 * Zipkin and Prometheus exporters of `@opentelemetry/sdk-node`, Live Metrics and performance counters — about
 * 160 MB of the deployment package and ~0.9 s of every cold start (docs/performance.md "Cold start"). What is
 * kept is what the distro sent for this app (its wiring: `npm:@azure/monitor-opentelemetry@1.21.0:dist/esm/
 * index.js` useAzureMonitor, `traces/handler.js`, `traces/azureFnHook.js`):
 * - traces: a NodeTracerProvider with a BatchSpanProcessor into `AzureMonitorTraceExporter`
 *   (`@azure/monitor-opentelemetry-exporter`, the distro's own exporter), the distro's default sampler
 *   (`RateLimitedSampler`, 5 traces per second: `shared/config.js` `tracesPerSecond = 5`) unless
 *   OTEL_TRACES_SAMPLER names another, which the SDK then reads (`@opentelemetry/sdk-trace-base` config.js);
 * - the instrumentations this app uses: HTTP (`@opentelemetry/instrumentation-http`, with the distro's rule that
 *   the exporter's own requests are not traced, `utils/common.js` ignoreOutgoingRequestHook) and the Azure SDK
 *   calls (`@azure/opentelemetry-instrumentation-azure-sdk`, whose `@azure/core-tracing` patch is applied to the
 *   loaded module at once, as the distro's `utils/azureSdkTracingBridge.js` does: in a bundle no `require` of
 *   `@azure/core-tracing` ever happens for a hook to see);
 * - metrics: a MeterProvider exporting every 60 s to `AzureMonitorMetricExporter` (`metrics/handler.js`), which
 *   the broker's meter (otel-metrics.ts) records on;
 * - the Functions trace context: a `preInvocation` hook runs each invocation in the host's W3C trace context
 *   (`traces/azureFnHook.js`), so the worker's spans share the host request's `operation_Id`;
 * - the resource: service attributes from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES and the Azure Functions
 *   detector (`@opentelemetry/resource-detector-azure`), which the exporter turns into the cloud role name.
 * Left out, and why, in docs/decisions.md "Observability": Live Metrics, the distro's pre-aggregated standard
 * metrics and performance counters (the Functions host reports requests, their standard metrics and Live
 * Metrics itself), and log export (logs go through the Functions host).
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
 *   rewrites, when a span starts (its attributes are still writable), every URL attribute: a query becomes
 *   `REDACTED` and the consent link's code `{code}`, so that neither depends on the exporter's mapping.
 * @module
 */
import * as coreTracing from '@azure/core-tracing';
import {
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
  RateLimitedSampler,
} from '@azure/monitor-opentelemetry-exporter';
import { AzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { context, metrics, propagation } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { azureFunctionsDetector } from '@opentelemetry/resource-detector-azure';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientRequest, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import type { TelemetryConfig } from '../../config.js';

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

interface Running {
  readonly tracerProvider: NodeTracerProvider;
  readonly meterProvider: MeterProvider;
  readonly disable: () => void;
}

let running: Running | undefined;

/** The distro's default: at most 5 traces per second (`npm:@azure/monitor-opentelemetry@1.21.0:dist/esm/shared/config.js`). */
const TRACES_PER_SECOND = 5;
/** Metrics are exported every minute, as the distro does (`metrics/handler.js` exportIntervalMillis). */
const METRIC_EXPORT_INTERVAL_MS = 60_000;
/** The exporter's User-Agent: its own requests to the ingestion endpoint are not traced (`utils/common.js`). */
const EXPORTER_USER_AGENT = 'azsdk-js-monitor-opentelemetry-exporter';

function isExporterRequest(request: ClientRequest | RequestOptions): boolean {
  const headers =
    'getHeader' in request ? { 'user-agent': request.getHeader('user-agent') } : request.headers;
  if (!headers || Array.isArray(headers)) return false;
  const agent =
    (headers as Record<string, unknown>)['user-agent'] ?? (headers as Record<string, unknown>)['User-Agent'];
  return agent !== undefined && String(agent).includes(EXPORTER_USER_AGENT);
}

/** The `@azure/functions-core` module of the Functions Node worker, when this process runs in one. */
interface FunctionsCore {
  registerHook(
    name: 'preInvocation',
    callback: (context: {
      invocationContext: { traceContext?: Record<string, string | undefined> };
      functionCallback: (...args: unknown[]) => unknown;
    }) => void,
  ): { dispose(): void };
}

/** `require(name)`, or undefined where it cannot be loaded. */
function loadCommonJs(name: string): unknown {
  try {
    return createRequire(import.meta.url)(name) as unknown;
  } catch {
    return undefined;
  }
}

/** Provided by the Functions worker; absent elsewhere (tests, tools). */
const functionsCore = () => loadCommonJs('@azure/functions-core') as FunctionsCore | undefined;

/**
 * Runs every invocation in the trace context the Functions host passes (`traceparent`/`tracestate`), as the
 * distro's `AzureFunctionsHook` does (`npm:@azure/monitor-opentelemetry@1.21.0:dist/esm/traces/azureFnHook.js`).
 */
function propagateInvocationContext(): (() => void) | undefined {
  const hook = functionsCore()?.registerHook('preInvocation', (pre) => {
    const trace = pre.invocationContext.traceContext;
    const parent = trace
      ? propagation.extract(context.active(), {
          traceparent: trace.traceparent ?? trace.traceParent,
          tracestate: trace.tracestate ?? trace.traceState,
        })
      : context.active();
    pre.functionCallback = context.bind(parent, pre.functionCallback);
  });
  return hook && (() => hook.dispose());
}

/**
 * Starts the exporters once per process when a connection string is set; otherwise does nothing, and the
 * OpenTelemetry API stays a no-op. Returns whether telemetry is exported. Called by functions/telemetry.ts
 * before any other module of the app runs (the HTTP and Azure SDK instrumentations patch modules as they are
 * loaded).
 */
export function startAzureMonitor(config: TelemetryConfig): boolean {
  const connectionString = config.applicationInsightsConnectionString;
  if (connectionString === undefined) return false;
  if (running) return true;
  const resource = defaultResource().merge(
    detectResources({ detectors: [envDetector, azureFunctionsDetector] }),
  );
  const tracerProvider = new NodeTracerProvider({
    resource,
    // OTEL_TRACES_SAMPLER, when set, is read by the SDK itself (as the distro lets it choose).
    ...(config.samplerFromEnvironment ? {} : { sampler: new RateLimitedSampler(TRACES_PER_SECOND) }),
    spanProcessors: [
      redactingSpanProcessor(),
      new BatchSpanProcessor(new AzureMonitorTraceExporter({ connectionString })),
    ],
  });
  tracerProvider.register();
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new AzureMonitorMetricExporter({ connectionString }),
        exportIntervalMillis: METRIC_EXPORT_INTERVAL_MS,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  const azureSdk = new AzureSdkInstrumentation();
  const disableInstrumentations = registerInstrumentations({
    tracerProvider,
    meterProvider,
    instrumentations: [new HttpInstrumentation({ ignoreOutgoingRequestHook: isExporterRequest }), azureSdk],
  });
  // The Azure SDK bridge on the loaded @azure/core-tracing, the ES module this app and its SDKs share, and its
  // CommonJS build where node_modules has one (a bundle has not).
  for (const definition of azureSdk.getModuleDefinitions()) {
    if (definition.name !== '@azure/core-tracing') continue;
    definition.patch?.(coreTracing);
    const commonJs = loadCommonJs('@azure/core-tracing');
    if (commonJs) definition.patch?.(commonJs);
  }
  const stopHook = propagateInvocationContext();
  running = {
    tracerProvider,
    meterProvider,
    disable: () => {
      stopHook?.();
      disableInstrumentations();
    },
  };
  return true;
}

/** Sends what is buffered (spans every 5 s, metrics every 60 s) and stops: for the instance's shutdown. */
export async function stopAzureMonitor(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  current.disable();
  await Promise.all([current.tracerProvider.shutdown(), current.meterProvider.shutdown()]);
}
