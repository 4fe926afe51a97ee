/**
 * The broker's metrics (src/adapters/telemetry/otel-metrics.ts) recorded through the real OpenTelemetry SDK:
 * a MeterProvider with an in-memory exporter is registered globally before the broker starts, the broker is
 * driven on the wire (consent, tokens, refusals, an Entra refusal), and the collected data points are checked
 * for values, attributes, and the absence of any identifier or credential of the test.
 * @module
 */
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

const EXO = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
/** Labels the broker may put in an attribute: bounded words and codes, never ids, URLs with paths or secrets. */
const LABEL = /^(https:\/\/[a-z0-9.-]+\/\.default|[A-Za-z0-9_.-]{1,64})$/;

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
let broker: TestBroker;
let staff: string;
const credentials: string[] = [];
const identifiers: string[] = [];

beforeAll(async () => {
  // Registered before the broker is created: its meter comes from the global provider at creation.
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  broker = await startTestBroker();
  staff = await broker.staffToken();
  credentials.push(staff, inject('sandbox').homeApp.clientSecret);
});
afterAll(async () => {
  await broker?.close();
  await reader.shutdown();
  metrics.disable();
});

async function register(tenantId: string, profiles: string[]) {
  const res = await fetch(`${broker.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      customerRef: 'PBX-METRICS',
      tenantId,
      profiles,
      auth: { method: 'client_secret' },
    }),
  });
  expect(res.status).toBe(201);
  const c = (await res.json()) as { clientId: string; clientSecret: string };
  credentials.push(c.clientSecret);
  identifiers.push(c.clientId);
  return { ...c, basic: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}` };
}

async function token(authorization: string, scope = EXO) {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (body.access_token) credentials.push(body.access_token);
  return { status: res.status, body };
}

async function collect(): Promise<MetricData[]> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics.scopeMetrics
    .filter((s) => s.scope.name === 'consent-broker')
    .flatMap((s) => s.metrics);
}

function points(all: MetricData[], name: string): DataPoint<number | Histogram>[] {
  return (all.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<number | Histogram>[];
}

/** The value of the data point with exactly these attributes (0 when there is none). */
function value(all: MetricData[], name: string, attributes: Record<string, string>): number {
  const p = points(all, name).find((d) => JSON.stringify(d.attributes) === JSON.stringify(attributes));
  return typeof p?.value === 'number' ? p.value : 0;
}

describe('broker metrics through the OpenTelemetry SDK', () => {
  it('counts consents, tokens vended, token errors, cache hits and misses, and Entra requests by AADSTS code', async () => {
    const ok = await consentedTenant(broker.url, staff, 'Metrics Corp', ['exchange-imap']);
    const revoked = await consentedTenant(broker.url, staff, 'Metrics Revoked', ['exchange-imap']);
    identifiers.push(ok.tenantId, revoked.tenantId);

    const pbx = await register(ok.tenantId, ['exchange-imap']);
    // One cold request (an Entra request, a cache miss), then two from memory (hits).
    for (let i = 0; i < 3; i++) expect((await token(pbx.basic)).status).toBe(200);
    // Refusals: a wrong secret, a scope outside the appliance's profiles.
    const wrong = `cbs_${'y'.repeat(43)}`;
    credentials.push(wrong);
    expect(
      (await token(`Basic ${Buffer.from(`${pbx.clientId}:${wrong}`).toString('base64')}`)).body.error,
    ).toBe('invalid_client');
    expect((await token(pbx.basic, GRAPH)).body.error).toBe('invalid_scope');
    // The consent removed in the tenant: Entra refuses with AADSTS7000229 (FACTS.md §3), a cache miss.
    const gone = await register(revoked.tenantId, ['exchange-imap']);
    await control(
      'DELETE',
      `/_sim/tenants/${revoked.tenantId}/consents/${inject('sandbox').homeApp.clientId}`,
    );
    expect((await token(gone.basic)).body.error).toBe('invalid_grant');

    const all = await collect();
    expect(value(all, 'broker.token.vended', { resource: EXO })).toBe(3);
    expect(value(all, 'broker.token.errors', { error: 'invalid_client' })).toBe(1);
    expect(value(all, 'broker.token.errors', { error: 'invalid_scope' })).toBe(1);
    expect(value(all, 'broker.token.errors', { error: 'invalid_grant' })).toBe(1);
    expect(value(all, 'broker.consent.outcomes', { outcome: 'granted' })).toBe(2);
    expect(value(all, 'broker.token_cache.lookups', { result: 'hit' })).toBe(2);
    expect(value(all, 'broker.token_cache.lookups', { result: 'miss' })).toBe(2);
    expect(value(all, 'broker.token_cache.entries', {})).toBe(2);
    expect(
      value(all, 'broker.entra.errors', { request: 'token', outcome: 'refused', aadsts: '7000229' }),
    ).toBe(1);

    // Entra latency: every token request to Entra (the consent proofs, the sign-ins and the cold vend) is a
    // histogram sample in ms; the refusal is one sample with its AADSTS code.
    const durations = points(all, 'broker.entra.request.duration');
    const okTokens = durations.find(
      (d) => JSON.stringify(d.attributes) === JSON.stringify({ request: 'token', outcome: 'ok' }),
    )?.value as Histogram | undefined;
    expect(okTokens?.count).toBeGreaterThanOrEqual(5);
    expect(okTokens?.sum).toBeGreaterThan(0);
    expect(okTokens?.max).toBeLessThan(10_000);
    const refused = durations.find((d) => d.attributes.aadsts === '7000229')?.value as Histogram | undefined;
    expect(refused?.count).toBe(1);
    expect(all.find((m) => m.descriptor.name === 'broker.entra.request.duration')?.descriptor.unit).toBe(
      'ms',
    );
  });

  it('puts no identifier, secret or token in any attribute: only bounded labels', async () => {
    const all = await collect();
    expect(all.length).toBeGreaterThan(0);
    for (const metric of all) {
      for (const point of metric.dataPoints as DataPoint<unknown>[]) {
        for (const [key, v] of Object.entries(point.attributes)) {
          expect(String(v), `${metric.descriptor.name} ${key}`).toMatch(LABEL);
          for (const secret of [...credentials, ...identifiers])
            expect(String(v).includes(secret), `${metric.descriptor.name} ${key}`).toBe(false);
        }
      }
    }
  });
});
