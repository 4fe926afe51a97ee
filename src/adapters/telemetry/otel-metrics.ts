/**
 * `BrokerMetrics` on the OpenTelemetry metrics API (`@opentelemetry/api`). The meter comes from the global
 * MeterProvider at creation: the Azure Monitor distro's when functions/telemetry.ts started it (it registers
 * its MeterProvider globally, `npm:@azure/monitor-opentelemetry@1.21.0:dist/esm/index.js` `useAzureMonitor` →
 * NodeSDK `start()`), a test's own provider, or else the API's no-op meter, whose instruments do nothing
 * (https://opentelemetry.io/docs/specs/otel/metrics/api/ "the API MUST provide a way to … no-op"). So there is no
 * "telemetry enabled?" branch here: create it after the provider is registered, and it records or not.
 *
 * Attribute objects are built once and reused: the token endpoint's warm path adds 1 to one counter with an
 * object it did not allocate. Token cache hits and misses are not counted per lookup at all: the cache keeps
 * plain counters (src/vending/token-cache.ts) and an observable counter reads them at each collection
 * (https://opentelemetry.io/docs/specs/otel/metrics/api/#asynchronous-counter).
 * @module
 */
import { metrics as otelMetrics, type Attributes, type Meter } from '@opentelemetry/api';
import type { BrokerMetrics, EntraRequestSample, TokenCacheCounters } from './port.js';

/** The instrumentation scope of every broker metric. */
export const METER_NAME = 'consent-broker';

/** At most this many distinct values per attribute; past it, `other` (a bound on time series, not a limit of use). */
const MAX_VALUES = 64;
const AADSTS = /^\d{1,10}$/;
/** OAuth error codes, audit actions, AADSTS codes as recorded ("AADSTS65004"), rejection reasons ("not_admin"). */
const LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/** A cache of frozen attribute objects keyed by their values, so that recording allocates nothing once warm. */
function attributeCache<K extends string>(build: (key: K | 'other') => Attributes): (key: K) => Attributes {
  const cache = new Map<K, Attributes>();
  let other: Attributes | undefined;
  return (key) => {
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    if (cache.size >= MAX_VALUES) return (other ??= Object.freeze(build('other')));
    const attrs = Object.freeze(build(key));
    cache.set(key, attrs);
    return attrs;
  };
}

const label = (value: string | undefined): string | undefined =>
  value !== undefined && LABEL.test(value) ? value : undefined;

export function createOtelMetrics(meter: Meter = otelMetrics.getMeter(METER_NAME)): BrokerMetrics {
  const vended = meter.createCounter('broker.token.vended', {
    description: 'Tokens vended by the token endpoint, by resource scope.',
    unit: '{token}',
  });
  const tokenErrors = meter.createCounter('broker.token.errors', {
    description: 'Token endpoint error answers, by RFC 6749 §5.2 error code.',
    unit: '{response}',
  });
  const entraDuration = meter.createHistogram('broker.entra.request.duration', {
    description: 'Duration of HTTP requests to Microsoft Entra ID, by request kind and outcome.',
    unit: 'ms',
  });
  const entraErrors = meter.createCounter('broker.entra.errors', {
    description: 'Failed HTTP requests to Microsoft Entra ID, by outcome and AADSTS code.',
    unit: '{request}',
  });
  const consents = meter.createCounter('broker.consent.outcomes', {
    description: 'Consent outcomes as audited (granted, accepted, verified, rejected, failed, revoked…).',
    unit: '{consent}',
  });
  const cacheLookups = meter.createObservableCounter('broker.token_cache.lookups', {
    description: 'Token cache lookups, by result (hit or miss); hit ratio = hit / (hit + miss).',
    unit: '{lookup}',
  });
  const cacheEntries = meter.createObservableGauge('broker.token_cache.entries', {
    description: 'Tokens held in the token cache, one per (tenant, resource).',
    unit: '{token}',
  });

  const resourceAttrs = attributeCache<string>((resource) => ({ resource }));
  const errorAttrs = attributeCache<string>((error) => ({ error: label(error) ?? 'other' }));
  const entraAttrs = attributeCache<string>((key) => {
    const [request = 'other', outcome = 'other', aadsts] = key.split('|');
    return aadsts ? { request, outcome, aadsts } : { request, outcome };
  });
  const consentAttrs = attributeCache<string>((key) => {
    const [outcome = 'other', code] = key.split('|');
    return code ? { outcome, code } : { outcome };
  });
  const HIT: Attributes = Object.freeze({ result: 'hit' });
  const MISS: Attributes = Object.freeze({ result: 'miss' });

  return {
    tokenVended(resource) {
      vended.add(1, resourceAttrs(resource));
    },
    tokenError(error) {
      tokenErrors.add(1, errorAttrs(error));
    },
    entraRequest(sample: EntraRequestSample) {
      const aadsts = sample.aadsts !== undefined && AADSTS.test(sample.aadsts) ? sample.aadsts : '';
      const attrs = entraAttrs(`${sample.request}|${sample.outcome}|${aadsts}`);
      entraDuration.record(sample.durationMs, attrs);
      if (sample.outcome !== 'ok') entraErrors.add(1, attrs);
    },
    consentOutcome(outcome, code) {
      const o = label(outcome) ?? 'other';
      const c = label(code) ?? '';
      consents.add(1, consentAttrs(`${o}|${c}`));
    },
    observeTokenCache(read: () => TokenCacheCounters) {
      cacheLookups.addCallback((result) => {
        const stats = read();
        result.observe(stats.hits, HIT);
        result.observe(stats.misses, MISS);
      });
      cacheEntries.addCallback((result) => result.observe(read().size));
    },
  };
}
