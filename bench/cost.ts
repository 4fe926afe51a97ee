/**
 * What a tenant costs per month (issue 20 item 3): from operations the bench measured against the counting
 * proxy (Table Storage), the Key Vault simulator and the Entra simulator (bench/cost-probe.ts), to Table Storage
 * transactions, Key Vault operations and Entra token requests per tenant per month, and their price. Pure: the
 * counts come in measured, the model's inputs are explicit, and nothing here reads a clock or a socket.
 *
 * The model (docs/cost.md):
 * - request path, per tenant: appliances × requests per appliance-hour token requests, each costing what a warm
 *   vend measured; one Entra request per (tenant, resource) per instance per token life less the cache's refresh
 *   lead (src/vending/token-cache.ts), rounded up to the next request that reaches that instance; each
 *   instance's directory re-reads an appliance and a tenant entry on the first use after 15 min
 *   (src/directory/record-directory.ts TRUSTED_FRESH_MS); each instance flushes usage every minute and writes
 *   one `tokens.issued` audit row per appliance-hour it served (src/appliances/usage.ts);
 * - scheduled work of the deployment (Functions timers, which run on one instance at a time): measured per run,
 *   times the runs its NCRONTAB schedule makes in a month (functions/timers.ts), divided by the tenants; the
 *   consent re-check's proofs are counted per tenant (each is re-proven every RECHECK_PERIOD_MS);
 * - scheduled work of every instance (in-process intervals): the change-journal read, the home app
 *   credential's Key Vault refresh, and each instance start.
 * Load is spread evenly over the instances, and every instance serves every tenant (the upper bound: each
 * instance holds its own token cache and directory).
 * @module
 */

/** Azure's billing month, as its pricing calculator counts it. */
export const HOURS_PER_MONTH = 730;

/** Operations of one thing: Table Storage transactions (HTTP requests), Key Vault and Entra token requests. */
export interface Ops {
  readonly table: number;
  /** Entity operations inside Table Storage batches (`$batch`), in addition to `table`, for the pricing caveat. */
  readonly tableBatchEntities: number;
  readonly keyVault: number;
  readonly entra: number;
}

export const NO_OPS: Ops = { table: 0, tableBatchEntities: 0, keyVault: 0, entra: 0 };

export const addOps = (a: Ops, b: Ops): Ops => ({
  table: a.table + b.table,
  tableBatchEntities: a.tableBatchEntities + b.tableBatchEntities,
  keyVault: a.keyVault + b.keyVault,
  entra: a.entra + b.entra,
});

export const scaleOps = (a: Ops, k: number): Ops => ({
  table: a.table * k,
  tableBatchEntities: a.tableBatchEntities * k,
  keyVault: a.keyVault * k,
  entra: a.entra * k,
});

/** The model's inputs: what is assumed rather than measured. All are printed with the figures. */
export interface CostInputs {
  readonly tenants: number;
  readonly appliancesPerTenant: number;
  /** Token requests each appliance sends the broker per hour. */
  readonly requestsPerApplianceHour: number;
  /** Resources (token audiences) per tenant the appliances use, equally. */
  readonly resourcesPerTenant: number;
  /** Microsoft access token lifetime (FACTS.md: random 60–90 min, 75 on average). */
  readonly tokenLifetimeMinutes: number;
  /** The token cache refreshes on a hit this long before expiry (src/vending/token-cache.ts, 600 s). */
  readonly refreshAheadMinutes: number;
  /** A directory entry is read again on its first use after this long (TRUSTED_FRESH_MS, 15 min). */
  readonly directoryTrustMinutes: number;
  readonly instances: number;
  /** Starts of each instance in a month (scale-out, recycling, deployments). */
  readonly startsPerInstanceMonth: number;
}

/** Something measured once, and how often it happens in a month. */
export interface Recurring {
  readonly name: string;
  /** `deployment`: one instance runs it (a Functions timer); `instance`: every instance does. */
  readonly scope: 'deployment' | 'instance';
  readonly runsPerMonth: number;
  readonly perRun: Ops;
}

/** What the bench measured (bench/cost-probe.ts). */
export interface MeasuredCosts {
  /** One warm token request (cached token, appliance and tenant in memory). */
  readonly warmVend: Ops;
  /** One token the cache fetched: Entra token requests (one expected) and any table read routing it. */
  readonly tokenFetch: Ops;
  /** One load of an appliance entry, and of a tenant entry, into the directory. */
  readonly applianceRead: Ops;
  readonly tenantRead: Ops;
  /** One usage flush with `activeAppliancesPerFlush(inputs)` appliances pending, without its audit rows. */
  readonly usageFlush: Ops;
  /** One `tokens.issued` audit row. */
  readonly auditEntry: Ops;
  /** One consent re-proof of a tenant (recheckConsents, beyond the listing every run makes). */
  readonly recheckProof: Ops;
  /** How often each tenant is re-proven (RECHECK_PERIOD_MS), in hours. */
  readonly recheckPeriodHours: number;
  /** Timers and intervals, per run. */
  readonly recurring: readonly Recurring[];
  /** One instance start up to its first token served (Key Vault reads of the credential and keys). */
  readonly instanceStart: Ops;
}

export interface CostLine {
  readonly name: string;
  readonly scope: 'request path' | 'deployment' | 'instance';
  /** Per tenant per month. */
  readonly perTenantMonth: Ops;
  readonly note: string;
}

export interface CostModel {
  readonly inputs: CostInputs;
  readonly lines: readonly CostLine[];
  readonly total: Ops;
}

/**
 * The time between two cache refreshes when requests reach the cache every `intervalMinutes`: the first
 * request at or after `leadMinutes` from the last fetch (every request, if they are rarer than that).
 */
export function refreshPeriodMinutes(leadMinutes: number, intervalMinutes: number): number {
  if (!(intervalMinutes > 0)) throw new Error('intervalMinutes must be > 0');
  if (leadMinutes <= 0) return intervalMinutes;
  return intervalMinutes * Math.ceil(leadMinutes / intervalMinutes - 1e-9);
}

/** Appliances with a count pending at one instance's minute flush: those it served in that minute. */
export function activeAppliancesPerFlush(inputs: CostInputs): number {
  const perMinuteAtInstance = inputs.requestsPerApplianceHour / 60 / inputs.instances;
  return Math.round(inputs.tenants * inputs.appliancesPerTenant * Math.min(1, perMinuteAtInstance));
}

/** Runs in a month of a six-field NCRONTAB schedule (seconds first) whose day, month and weekday are `*`. */
export function ncrontabRunsPerMonth(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`not a six-field NCRONTAB expression: "${schedule}"`);
  const [sec, min, hour, day, month, weekday] = fields as [string, string, string, string, string, string];
  if (day !== '*' || month !== '*' || weekday !== '*')
    throw new Error(`only daily schedules are counted (day, month and weekday "*"): "${schedule}"`);
  const perDay = matches(sec, 60) * matches(min, 60) * matches(hour, 24);
  return (perDay * HOURS_PER_MONTH) / 24;
}

/** How many values of 0..size-1 an NCRONTAB field matches (`*`, `*\/n`, `a-b`, `a-b/n`, `n`, lists). */
function matches(field: string, size: number): number {
  const hit = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`unsupported NCRONTAB field "${field}"`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    let from = 0;
    let to = size - 1;
    if (m[1] !== '*') {
      const [a, b] = m[1]!.split('-').map(Number) as [number, number | undefined];
      from = a;
      to = b ?? (m[2] === undefined ? a : size - 1);
    }
    if (step < 1 || from > to || to >= size) throw new Error(`NCRONTAB field "${field}" out of range`);
    for (let v = from; v <= to; v += step) hit.add(v);
  }
  return hit.size;
}

/** Per tenant per month, by line, for the inputs' number of instances. */
export function monthlyCosts(inputs: CostInputs, measured: MeasuredCosts): CostModel {
  const {
    tenants,
    appliancesPerTenant: a,
    requestsPerApplianceHour: r,
    resourcesPerTenant: p,
    instances: n,
  } = inputs;
  if (tenants < 1 || a <= 0 || r <= 0 || p < 1 || n < 1) throw new Error('inputs must be positive');
  const minutes = HOURS_PER_MONTH * 60;
  const lines: CostLine[] = [];
  const line = (name: string, scope: CostLine['scope'], perTenantMonth: Ops, note: string) =>
    lines.push({ name, scope, perTenantMonth, note });

  const vends = a * r * HOURS_PER_MONTH;
  line(
    'token requests (warm path)',
    'request path',
    scaleOps(measured.warmVend, vends),
    `${fmtN(vends)} vends`,
  );

  // Per instance, a (tenant, resource) pair is asked for every `pairInterval` minutes.
  const pairInterval = (60 * n * p) / (a * r);
  const lead = inputs.tokenLifetimeMinutes - inputs.refreshAheadMinutes;
  const tokenPeriod = refreshPeriodMinutes(lead, pairInterval);
  const acquisitions = (n * p * minutes) / tokenPeriod;
  line(
    'Entra token fetches (token cache)',
    'request path',
    scaleOps(measured.tokenFetch, acquisitions),
    `one per resource per instance every ${fmtN(tokenPeriod)} min`,
  );

  const applianceInterval = (60 * n) / r;
  const tenantInterval = (60 * n) / (a * r);
  const applianceReads =
    (n * a * minutes) / refreshPeriodMinutes(inputs.directoryTrustMinutes, applianceInterval);
  const tenantReads = (n * minutes) / refreshPeriodMinutes(inputs.directoryTrustMinutes, tenantInterval);
  line(
    'directory re-reads (appliance, tenant)',
    'request path',
    addOps(scaleOps(measured.applianceRead, applianceReads), scaleOps(measured.tenantRead, tenantReads)),
    `${fmtN(applianceReads)} appliance + ${fmtN(tenantReads)} tenant reads`,
  );

  const active = activeAppliancesPerFlush(inputs);
  line(
    'usage flush (every minute, each instance)',
    'instance',
    scaleOps(measured.usageFlush, (n * minutes) / tenants),
    `${fmtN(active)} appliances pending per flush`,
  );
  const auditRows = n * a * Math.min(1, r / n) * HOURS_PER_MONTH;
  line(
    'usage audit rows (tokens.issued)',
    'request path',
    scaleOps(measured.auditEntry, auditRows),
    `${fmtN(auditRows)} rows`,
  );

  const proofs = HOURS_PER_MONTH / measured.recheckPeriodHours;
  line(
    'consent re-proofs (recheckConsents)',
    'deployment',
    scaleOps(measured.recheckProof, proofs),
    `each tenant every ${measured.recheckPeriodHours} h`,
  );

  for (const item of measured.recurring) {
    const runs = item.runsPerMonth * (item.scope === 'instance' ? n : 1);
    line(item.name, item.scope, scaleOps(item.perRun, runs / tenants), `${fmtN(runs)} runs`);
  }
  line(
    'instance starts',
    'instance',
    scaleOps(measured.instanceStart, (n * inputs.startsPerInstanceMonth) / tenants),
    `${fmtN(n * inputs.startsPerInstanceMonth)} starts`,
  );
  return { inputs, lines, total: lines.reduce((t, l) => addOps(t, l.perTenantMonth), NO_OPS) };
}

/** A list price per 10,000 operations, with where it was read; `usdPer10k` null when no source was found. */
export interface Price {
  readonly usdPer10k: number | null;
  readonly source: string;
  readonly seen: string;
  /** UNVERIFIED when the figure is not from a stored page of Azure's pricing. */
  readonly status: 'list price' | 'secondary source' | 'UNVERIFIED';
  /** A figure to show the order of magnitude with when `usdPer10k` is null (labelled as an assumption). */
  readonly assumedUsdPer10k?: number;
}

export interface Prices {
  readonly tableTransactions: Price;
  readonly keyVaultOperations: Price;
  readonly entraTokenRequests: Price;
}

export interface Cost {
  /** USD per tenant per month by service; null where the price is unknown (then `assumed` is used). */
  readonly table: number | null;
  readonly keyVault: number | null;
  readonly entra: number | null;
  /** The same with each unknown price replaced by its labelled assumption (0 when none). */
  readonly assumedTotal: number;
  /** True when the total rests on an UNVERIFIED figure. */
  readonly unverified: boolean;
}

/** Prices the monthly operations of one tenant. */
export function priceOf(ops: Ops, prices: Prices): Cost {
  const one = (n: number, price: Price) => (price.usdPer10k === null ? null : (n / 10_000) * price.usdPer10k);
  const assumed = (n: number, price: Price) =>
    (n / 10_000) * (price.usdPer10k ?? price.assumedUsdPer10k ?? 0);
  return {
    table: one(ops.table, prices.tableTransactions),
    keyVault: one(ops.keyVault, prices.keyVaultOperations),
    entra: one(ops.entra, prices.entraTokenRequests),
    assumedTotal:
      assumed(ops.table, prices.tableTransactions) +
      assumed(ops.keyVault, prices.keyVaultOperations) +
      assumed(ops.entra, prices.entraTokenRequests),
    unverified: Object.values(prices).some((p: Price) => p.status === 'UNVERIFIED'),
  };
}

/**
 * The prices found in the stored pages on 2026-12-02 (docs/cost.md "Prices"). No page of Azure's own pricing
 * was among them: Table Storage is UNVERIFIED (the figure shown is an assumption, the one
 * docs/delegated-custody.md uses, also UNVERIFIED); Key Vault's is a Microsoft Q&A answer quoting the
 * calculator; no page says that app-only tokens in workforce tenants are free of charge (the only per-token
 * price found is Entra External ID's machine-to-machine one, which does not apply to customer tenants).
 */
export const LIST_PRICES: Prices = {
  tableTransactions: {
    usdPer10k: null,
    assumedUsdPer10k: 0.00036,
    source:
      'none found in the stored pages (https://azure.microsoft.com/pricing/details/storage/tables/ not stored)',
    seen: '2026-12-02',
    status: 'UNVERIFIED',
  },
  keyVaultOperations: {
    usdPer10k: 0.03,
    source:
      'https://learn.microsoft.com/en-us/answers/questions/5608202/how-to-correctly-estimate-azure-key-vault-cost ("Standard tier: ~$0.03 per 10,000 operations")',
    seen: '2026-12-02',
    status: 'secondary source',
  },
  entraTokenRequests: {
    usdPer10k: null,
    assumedUsdPer10k: 0,
    source:
      'no per-request charge found for app-only tokens in workforce tenants; Entra External ID M2M is $0.001 per token from 2025-11-01 (https://shpend-kelmendi.ch/2025/10/13/2025-10-13-entra-external-id-m2m-pricing-token/entra-id-m2m-token-pricing), not applicable',
    seen: '2026-12-02',
    status: 'UNVERIFIED',
  },
};

/** 1234.5 → "1,235"; 0.0123 → "0.0123". */
export function fmtN(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 1) return n.toFixed(1);
  return n.toPrecision(3);
}

/** The USD figure for a cost, small amounts with enough digits to compare. */
export function fmtUsd(n: number | null): string {
  if (n === null) return 'n/a';
  if (n === 0) return '$0';
  return n >= 1 ? `$${n.toFixed(2)}` : `$${n.toPrecision(3)}`;
}

/**
 * The report: the inputs, one row per line of the model with its operations per tenant per month for each
 * model (e.g. one instance and ten), the totals and their price with each price's source.
 */
export function costReport(models: readonly CostModel[], prices: Prices): string[] {
  if (models.length === 0) return [];
  const first = models[0]!.inputs;
  const out: string[] = [];
  out.push(
    `Cost per tenant per month (${HOURS_PER_MONTH} h): ${first.tenants} tenants, ${first.appliancesPerTenant} appliance(s) per tenant, ` +
      `${first.requestsPerApplianceHour} token request(s) per appliance per hour, ${first.resourcesPerTenant} resource(s) per tenant, ` +
      `token lifetime ${first.tokenLifetimeMinutes} min (refreshed on a hit ${first.refreshAheadMinutes} min before expiry), ` +
      `directory entries re-read after ${first.directoryTrustMinutes} min, ${first.startsPerInstanceMonth} start(s) per instance per month`,
  );
  const cols = models.map((m) => `${m.inputs.instances} instance${m.inputs.instances === 1 ? '' : 's'}`);
  out.push(
    `  ${'per tenant per month'.padEnd(48)} ${cols.map((c) => `${c}: table / Key Vault / Entra`.padEnd(44)).join(' ')}`,
  );
  const cell = (o: Ops) => `${fmtN(o.table)} / ${fmtN(o.keyVault)} / ${fmtN(o.entra)}`.padEnd(44);
  for (let i = 0; i < models[0]!.lines.length; i++) {
    const name = models[0]!.lines[i]!.name;
    const notes = models.map((m) => m.lines[i]!.note).join(' | ');
    out.push(
      `  ${name.padEnd(48)} ${models.map((m) => cell(m.lines[i]!.perTenantMonth)).join(' ')} (${notes})`,
    );
  }
  out.push(`  ${'TOTAL'.padEnd(48)} ${models.map((m) => cell(m.total)).join(' ')}`);
  out.push(
    `  entity operations inside Table Storage batches: ${models.map((m) => fmtN(m.total.tableBatchEntities)).join(' | ')}; ` +
      `if each is billed as a transaction (docs/cost.md), table transactions are at most ${models
        .map((m) => fmtN(m.total.table + m.total.tableBatchEntities))
        .join(' | ')}`,
  );
  for (const m of models) {
    const c = priceOf(m.total, prices);
    out.push(
      `  cost, ${m.inputs.instances} instance(s): Table Storage ${fmtUsd(c.table)}, Key Vault ${fmtUsd(c.keyVault)}, Entra ${fmtUsd(c.entra)} per tenant per month; ` +
        `${c.unverified ? 'with the UNVERIFIED assumptions below' : 'total'} ${fmtUsd(c.assumedTotal)} per tenant, ${fmtUsd(c.assumedTotal * m.inputs.tenants)} for ${m.inputs.tenants} tenants`,
    );
  }
  for (const [what, p] of [
    ['Table Storage transactions', prices.tableTransactions],
    ['Key Vault operations (Standard, secrets)', prices.keyVaultOperations],
    ['Entra token requests', prices.entraTokenRequests],
  ] as const) {
    const figure =
      p.usdPer10k !== null
        ? `$${p.usdPer10k} per 10,000`
        : `UNVERIFIED (assumed $${p.assumedUsdPer10k ?? 0} per 10,000 for the totals)`;
    out.push(`  price, ${what}: ${figure} [${p.status}; ${p.source}; seen ${p.seen}]`);
  }
  return out;
}
