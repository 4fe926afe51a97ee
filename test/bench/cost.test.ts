/** The arithmetic from measured operations to a tenant's month (bench/cost.ts). @module */
import { describe, expect, it } from 'vitest';
import {
  activeAppliancesPerFlush,
  costReport,
  monthlyCosts,
  ncrontabRunsPerMonth,
  NO_OPS,
  priceOf,
  refreshPeriodMinutes,
  type CostInputs,
  type MeasuredCosts,
  type Prices,
} from '../../bench/cost.js';
import { countBatchOperations } from '../../bench/counting-proxy.js';

const inputs: CostInputs = {
  tenants: 100,
  appliancesPerTenant: 2,
  requestsPerApplianceHour: 30,
  resourcesPerTenant: 1,
  tokenLifetimeMinutes: 75,
  refreshAheadMinutes: 10,
  directoryTrustMinutes: 15,
  instances: 1,
  startsPerInstanceMonth: 10,
};

const table = (n: number) => ({ ...NO_OPS, table: n });

const measured: MeasuredCosts = {
  warmVend: NO_OPS,
  tokenFetch: { ...NO_OPS, entra: 1, table: 1 },
  applianceRead: table(1),
  tenantRead: table(1),
  usageFlush: { ...NO_OPS, table: 4, tableBatchEntities: 200 },
  auditEntry: table(1),
  recheckProof: { ...NO_OPS, entra: 2 },
  recheckPeriodHours: 6,
  recurring: [
    { name: 'timer', scope: 'deployment', runsPerMonth: 1000, perRun: table(5) },
    { name: 'poll', scope: 'instance', runsPerMonth: 100, perRun: { ...NO_OPS, table: 1, keyVault: 1 } },
  ],
  instanceStart: { ...NO_OPS, keyVault: 3 },
};

const line = (model: ReturnType<typeof monthlyCosts>, name: string) => {
  const found = model.lines.find((l) => l.name.startsWith(name));
  if (!found) throw new Error(`no line ${name}`);
  return found.perTenantMonth;
};

describe('ncrontabRunsPerMonth (six fields, seconds first, 730-hour month)', () => {
  it('counts the schedules of functions/timers.ts', () => {
    expect(ncrontabRunsPerMonth('*/15 * * * * *')).toBeCloseTo(175_200);
    expect(ncrontabRunsPerMonth('0 */5 * * * *')).toBeCloseTo(8_760);
    expect(ncrontabRunsPerMonth('0 0 3 * * *')).toBeCloseTo(730 / 24);
    expect(ncrontabRunsPerMonth('0 30 4 * * *')).toBeCloseTo(730 / 24);
  });

  it('counts lists, ranges and stepped ranges', () => {
    expect(ncrontabRunsPerMonth('0 0,30 9-17 * * *')).toBeCloseTo((2 * 9 * 730) / 24);
    expect(ncrontabRunsPerMonth('0 5/20 * * * *')).toBeCloseTo((3 * 24 * 730) / 24);
  });

  it('refuses what it cannot count', () => {
    expect(() => ncrontabRunsPerMonth('0 0 3 1 * *')).toThrow(/daily/);
    expect(() => ncrontabRunsPerMonth('0 */5 * * *')).toThrow(/six-field/);
    expect(() => ncrontabRunsPerMonth('0 0 25 * * *')).toThrow(/range/);
  });
});

describe('refreshPeriodMinutes', () => {
  it('is the lead when requests are frequent, rounded up to the next request', () => {
    expect(refreshPeriodMinutes(65, 1)).toBe(65);
    expect(refreshPeriodMinutes(65, 0.5)).toBe(65);
    expect(refreshPeriodMinutes(65, 10)).toBe(70);
  });

  it('is the request interval when requests are rarer than the lead', () => {
    expect(refreshPeriodMinutes(65, 100)).toBe(100);
    expect(refreshPeriodMinutes(0, 3)).toBe(3);
  });
});

describe('activeAppliancesPerFlush', () => {
  it('is every appliance when each is served at least once a minute per instance', () => {
    expect(activeAppliancesPerFlush({ ...inputs, requestsPerApplianceHour: 120 })).toBe(200);
  });

  it('shrinks with rarer requests and more instances', () => {
    expect(activeAppliancesPerFlush(inputs)).toBe(100);
    expect(activeAppliancesPerFlush({ ...inputs, instances: 10 })).toBe(10);
  });
});

describe('monthlyCosts', () => {
  it('turns measured operations into a tenant-month, one instance', () => {
    const m = monthlyCosts(inputs, measured);
    // 2 appliances × 30/h: the tenant's one resource is asked every minute; refreshed every 65 min.
    expect(line(m, 'Entra token fetches').entra).toBeCloseTo((730 * 60) / 65);
    expect(line(m, 'Entra token fetches').table).toBeCloseTo((730 * 60) / 65);
    // Appliance asked every 2 min → re-read every 16 min; tenant every 1 min → every 15 min.
    expect(line(m, 'directory re-reads').table).toBeCloseTo((2 * 730 * 60) / 16 + (730 * 60) / 15);
    // One flush a minute of 4 transactions, shared by 100 tenants.
    expect(line(m, 'usage flush').table).toBeCloseTo((730 * 60 * 4) / 100);
    expect(line(m, 'usage flush').tableBatchEntities).toBeCloseTo((730 * 60 * 200) / 100);
    // One audit row per appliance-hour.
    expect(line(m, 'usage audit rows').table).toBeCloseTo(2 * 730);
    // Re-proven every 6 h with 2 Entra requests.
    expect(line(m, 'consent re-proofs').entra).toBeCloseTo((730 / 6) * 2);
    expect(line(m, 'timer').table).toBeCloseTo((1000 * 5) / 100);
    expect(line(m, 'poll').keyVault).toBeCloseTo(100 / 100);
    expect(line(m, 'instance starts').keyVault).toBeCloseTo((10 * 3) / 100);
    expect(m.total.entra).toBeCloseTo((730 * 60) / 65 + (730 / 6) * 2);
  });

  it('scales per-instance work and caches with the instances, not the timers', () => {
    const one = monthlyCosts(inputs, measured);
    const ten = monthlyCosts({ ...inputs, instances: 10 }, measured);
    // Each instance asks every 10 min → refreshed every 70 min, ten times over.
    expect(line(ten, 'Entra token fetches').entra).toBeCloseTo((10 * 730 * 60) / 70);
    expect(line(ten, 'poll').table).toBeCloseTo(10 * line(one, 'poll').table);
    expect(line(ten, 'instance starts').keyVault).toBeCloseTo(10 * line(one, 'instance starts').keyVault);
    expect(line(ten, 'timer').table).toBeCloseTo(line(one, 'timer').table);
    expect(line(ten, 'consent re-proofs').entra).toBeCloseTo(line(one, 'consent re-proofs').entra);
    // 3 requests per appliance-hour reach each instance: each writes one audit row per appliance-hour.
    expect(line(ten, 'usage audit rows').table).toBeCloseTo(10 * 2 * 1 * 730);
  });

  it('charges the warm path per vend', () => {
    const m = monthlyCosts(inputs, { ...measured, warmVend: table(0.001) });
    expect(line(m, 'token requests').table).toBeCloseTo(2 * 30 * 730 * 0.001);
  });

  it('refuses inputs that make no month', () => {
    expect(() => monthlyCosts({ ...inputs, instances: 0 }, measured)).toThrow();
  });
});

describe('priceOf', () => {
  const prices: Prices = {
    tableTransactions: {
      usdPer10k: null,
      assumedUsdPer10k: 0.0004,
      source: 's',
      seen: 'd',
      status: 'UNVERIFIED',
    },
    keyVaultOperations: { usdPer10k: 0.03, source: 's', seen: 'd', status: 'secondary source' },
    entraTokenRequests: { usdPer10k: 0, source: 's', seen: 'd', status: 'list price' },
  };

  it('prices per 10,000 and leaves an unknown price unknown, using its assumption only in the labelled total', () => {
    const c = priceOf({ table: 20_000, tableBatchEntities: 0, keyVault: 10_000, entra: 5 }, prices);
    expect(c.table).toBeNull();
    expect(c.keyVault).toBeCloseTo(0.03);
    expect(c.entra).toBe(0);
    expect(c.assumedTotal).toBeCloseTo(0.0008 + 0.03);
    expect(c.unverified).toBe(true);
  });

  it('prints every price with its source and status', () => {
    const report = costReport([monthlyCosts(inputs, measured)], prices).join('\n');
    expect(report).toMatch(/Table Storage transactions: UNVERIFIED/);
    expect(report).toMatch(
      /Key Vault operations \(Standard, secrets\): \$0\.03 per 10,000 \[secondary source/,
    );
    expect(report).toMatch(/2 appliance\(s\) per tenant, 30 token request\(s\) per appliance per hour/);
  });
});

describe('countBatchOperations', () => {
  it('counts the request lines of a batch body', () => {
    const body = [
      '--batch_1',
      'Content-Type: multipart/mixed; boundary=changeset_1',
      '',
      '--changeset_1',
      'Content-Type: application/http',
      '',
      "MERGE http://127.0.0.1:1/devstoreaccount1/appliances(PartitionKey='a',RowKey='1') HTTP/1.1",
      'If-Match: *',
      '',
      '--changeset_1',
      "MERGE http://127.0.0.1:1/devstoreaccount1/appliances(PartitionKey='a',RowKey='2') HTTP/1.1",
      '',
      '--changeset_1--',
      '--batch_1--',
    ].join('\r\n');
    expect(countBatchOperations(body)).toBe(2);
    expect(countBatchOperations('')).toBe(0);
  });
});

describe('timerSchedules (functions/timers.ts)', () => {
  it('finds every timer the broker registers, each with a schedule the model can count', async () => {
    const { timerSchedules } = await import('../../bench/cost-probe.js');
    const schedules = await timerSchedules();
    expect([...schedules.keys()].sort()).toEqual([
      'deliverWebhooks',
      'flagExpiringCredentials',
      'purgeExpiredRows',
      'recheckConsents',
      'reverifyPendingConsents',
    ]);
    for (const s of schedules.values()) expect(ncrontabRunsPerMonth(s)).toBeGreaterThan(0);
  });
});
