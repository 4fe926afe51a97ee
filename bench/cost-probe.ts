/**
 * Measures what bench/cost.ts prices: one broker, created in the bench process from the broker's own settings
 * (createBroker, as bench/direct-host.ts does) with its home app credential in the simulated Key Vault (as
 * infra/ deploys it), pointed at a counting proxy of its own in front of the run's Azurite, runs each piece of
 * scheduled work once — exactly the function its timer calls (functions/timers.ts) — and then vends a token for
 * every appliance twice (cold, then warm) through src/'s token endpoint. Each step's Table Storage requests
 * (and entity operations inside batches), Key Vault requests and Entra token requests are read as the
 * difference of the counters around it. Run after the broker's own processes stopped, so that nothing else
 * reaches the simulators meanwhile; the broker's own managed-identity token requests (for Key Vault) are not
 * counted as Entra token requests of tenants.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedVaultSecret } from '../simulators/keyvault/vault-state.js';
import type { World } from '../simulators/common/world.js';
import { createBroker, type Broker } from '../src/broker.js';
import { loadConfig } from '../src/config.js';
import { reverifyPendingConsents } from '../src/consent/verification.js';
import { deliverDueWebhooks } from '../src/webhooks/webhooks.js';
import { CREDENTIAL_REFRESH_SECONDS, loadHomeAppCredential } from '../src/credentials/home-app.js';
import { flagExpiringCredentials } from '../src/credentials/expiry.js';
import { createChangeJournal } from '../src/directory/change-journal.js';
import { JOURNAL_POLL_MS } from '../src/directory/record-directory.js';
import { handleTokenRequest } from '../src/http/token-endpoint.js';
import type { HttpRequestLike } from '../src/http/types.js';
import { purgeExpiredRows } from '../src/maintenance/purge.js';
import {
  applyProof,
  RECHECK_EVERY_MS,
  RECHECK_PERIOD_MS,
  recheckConsents,
} from '../src/tenants/consent-watch.js';
import {
  activeAppliancesPerFlush,
  HOURS_PER_MONTH,
  ncrontabRunsPerMonth,
  NO_OPS,
  type CostInputs,
  type MeasuredCosts,
  type Ops,
  type Recurring,
} from './cost.js';
import { startCountingProxy } from './counting-proxy.js';
import type { EntraCounter } from './entra-counter.js';
import { countKeyVaultRequests } from './keyvault-counter.js';
import { GRAPH_SCOPE, inParallel, TOKEN_FORM, type BenchAppliance } from './population.js';
import { DELEGATED_SCOPE, type BenchGrant, type MeasuredGrantCosts } from './delegated.js';
import { grantKey } from '../src/directory/change-journal.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository: this file runs from dist/bench/ (npm run bench) or bench/ (tests). */
const root = resolve(here, basename(dirname(here)) === 'dist' ? '../..' : '..');
const CREDENTIAL_SECRET_NAME = 'cost-probe-home-app-credential';
/** Tenants whose Graph token is fetched directly to price one token fetch (taken from the end of the list). */
const FETCH_SAMPLE = 50;
/** Tenants re-proven one by one, as recheckConsents does with each tenant due (taken from the start). */
const PROOF_SAMPLE = 20;

export interface CostProbeContext {
  readonly world: World;
  readonly azuritePort: number;
  readonly azuriteConnectionString: string;
  /** The settings the bench gave the broker (its home app secret is moved into the simulated vault). */
  readonly brokerEnv: NodeJS.ProcessEnv;
  readonly appliances: readonly BenchAppliance[];
  readonly entra: EntraCounter;
  /** The broker's own identity's tenant: its token requests (for Key Vault) are not a tenant's. */
  readonly identityTenantId: string;
  readonly log: (line: string) => void;
  /** Mailbox grants made through the real sign-in (bench/delegated.ts), to price a grant's upkeep. */
  readonly grants?: readonly BenchGrant[];
}

export interface CostProbe {
  /** The measured figures for one scenario (the usage flush is measured at that scenario's pending count). */
  measured(inputs: CostInputs): MeasuredCosts;
  /** A grant's upkeep, measured on grants the probe's broker had never seen; undefined without grants. */
  readonly grantCosts: MeasuredGrantCosts | undefined;
  /** What each step measured, for the report. */
  readonly steps: readonly { readonly name: string; readonly ops: Ops; readonly detail: string }[];
}

/** The timers' NCRONTAB schedules, read from their registrations (functions/timers.ts). */
export async function timerSchedules(): Promise<ReadonlyMap<string, string>> {
  const text = await readFile(join(root, 'functions/timers.ts'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/app\.timer\('(\w+)',\s*\{\s*schedule:\s*'([^']+)'/g)) out.set(m[1]!, m[2]!);
  return out;
}

export async function probeCosts(
  ctx: CostProbeContext,
  scenarios: readonly CostInputs[],
): Promise<CostProbe> {
  const proxy = await startCountingProxy(ctx.azuritePort);
  const keyVault = countKeyVaultRequests(ctx.world);
  const steps: { name: string; ops: Ops; detail: string }[] = [];
  const snapshot = () => ({
    kinds: proxy.breakdown(),
    batch: proxy.batchEntities(),
    keyVault: keyVault.total(),
    entra: ctx.entra.total() - ctx.entra.forTenant(ctx.identityTenantId),
  });
  type Snapshot = ReturnType<typeof snapshot>;
  /** Ops between two snapshots; `only` keeps the Table Storage kinds it accepts (`METHOD table`). */
  const between = (a: Snapshot, b: Snapshot, only: (kind: string) => boolean = () => true): Ops => {
    let table = 0;
    for (const [k, v] of b.kinds) if (only(k)) table += v - (a.kinds.get(k) ?? 0);
    return {
      table,
      tableBatchEntities: b.batch - a.batch,
      keyVault: b.keyVault - a.keyVault,
      entra: b.entra - a.entra,
    };
  };
  /** `METHOD table: n` for each kind of request between two snapshots. */
  const kindsBetween = (a: Snapshot, b: Snapshot) =>
    [...b.kinds]
      .map(([k, v]) => [k, v - (a.kinds.get(k) ?? 0)] as const)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const measure = async <T>(name: string, run: () => Promise<T>, detail: (r: T) => string = () => '') => {
    const before = snapshot();
    const result = await run();
    // Let the proxy see the end of every forwarded request body (batch entity counts).
    await new Promise((r) => setImmediate(r));
    const ops = between(before, snapshot());
    steps.push({ name, ops, detail: detail(result) });
    return { ops, result };
  };

  let broker: Broker | undefined;
  try {
    const secret = ctx.brokerEnv.HOME_APP_CLIENT_SECRET;
    if (!secret) throw new Error('the bench broker has no HOME_APP_CLIENT_SECRET to place in the vault');
    seedVaultSecret(ctx.world, CREDENTIAL_SECRET_NAME, secret);
    const config = loadConfig({
      ...ctx.brokerEnv,
      HOME_APP_CLIENT_SECRET: '',
      HOME_APP_CREDENTIAL_NAME: CREDENTIAL_SECRET_NAME,
      BROKER_STORAGE: ctx.azuriteConnectionString.replace(
        `TableEndpoint=http://127.0.0.1:${ctx.azuritePort}/`,
        `TableEndpoint=http://127.0.0.1:${proxy.port}/`,
      ),
    });
    const start = await measure(
      'instance start: createBroker',
      async () => (broker = await createBroker(config)),
    );
    const b = start.result;
    const firstToken = await measure('instance start: first token fetch', () =>
      b.entra.acquireAppToken(ctx.appliances[0]!.tenantId, GRAPH_SCOPE),
    );
    const keys = await measure('instance start: broker key (first client secret check)', () =>
      b.keys.derive('cost-probe', 'x'),
    );
    const refresh = await measure('home app credential refresh (Key Vault read)', () =>
      loadHomeAppCredential(b.config.homeAppCredential, b.secrets),
    );
    const sample = ctx.appliances.slice(-Math.min(FETCH_SAMPLE, ctx.appliances.length - 1));
    const fetches = await measure(
      `token fetch (${sample.length} tenants, Graph)`,
      () => inParallel(sample, 10, (a) => b.entra.acquireAppToken(a.tenantId, GRAPH_SCOPE)),
      () => 'MSAL client per tenant, one Entra request each',
    );
    const reverify = await measure(
      'reverifyPendingConsents, one run',
      () => reverifyPendingConsents(b),
      (n) => `${n} pending`,
    );
    const webhooks = await measure(
      'deliverDueWebhooks, one run (no endpoint registered)',
      () => deliverDueWebhooks(b),
      (n) => `${n} delivered`,
    );
    const listing = await measure(
      'recheckConsents, one run with nobody due (the listing)',
      () => recheckConsents(b, b.now()),
      (n) => `${n} re-proven`,
    );
    await measure(
      'recheckConsents, one run (its 5-minute window)',
      () => recheckConsents(b, new Date(b.now().getTime() - RECHECK_EVERY_MS)),
      (n) => `${n} re-proven`,
    );
    const proofTenants = await Promise.all(
      ctx.appliances.slice(0, PROOF_SAMPLE).map((a) => b.tenants.get(a.tenantId)),
    );
    const proofs = await measure(
      `consent re-proof of ${proofTenants.length} tenants (recheckConsents' work per tenant due)`,
      async () => {
        for (const t of proofTenants)
          if (t)
            await applyProof(b, t, await b.proveTenant(t.tenantId, t.profiles), {
              kind: 'system',
              id: 'broker',
            });
      },
    );
    const expiry = await measure('flagExpiringCredentials, one run', () =>
      flagExpiringCredentials({ ...b, homeAppCredential: b.config.homeAppCredential }),
    );
    const purge = await measure(
      'purgeExpiredRows, one run',
      () => purgeExpiredRows(b),
      (p) => `deleted ${p.states + p.used + p.assertions + p.changes} row(s)`,
    );
    const journal = createChangeJournal(b.tables);
    const journalRead = await measure('change-journal read, one poll', () =>
      journal.read(new Date(Date.now() - 30_000).toISOString(), 1000),
    );

    // Usage flushes at each scenario's pending count; audit rows told apart by their table.
    const flushes = new Map<number, { flush: Ops; audit: Ops }>();
    for (const k of [...new Set(scenarios.map(activeAppliancesPerFlush))].sort((x, y) => y - x)) {
      const n = Math.min(k, ctx.appliances.length);
      for (const a of ctx.appliances.slice(0, n)) b.recordUsage(a.clientId, a.tenantId);
      const before = snapshot();
      await b.usage.flush();
      await new Promise((r) => setImmediate(r));
      const after = snapshot();
      const audit = between(before, after, (kind) => / audit$/.test(kind));
      const flush = { ...between(before, after, (kind) => !/ audit$/.test(kind)), tableBatchEntities: 0 };
      const batch = after.batch - before.batch;
      flushes.set(k, {
        flush: { ...flush, tableBatchEntities: batch, keyVault: 0, entra: 0 },
        audit: { ...NO_OPS, table: audit.table / Math.max(1, n) },
      });
      steps.push({
        name: `usage flush, ${n} appliances pending`,
        ops: { ...flush, tableBatchEntities: batch },
        detail: `plus ${audit.table} audit row write(s)`,
      });
    }

    // Vends through src/'s token endpoint: cold (directory loads, token fetch), then warm.
    await b.usage.stop();
    const vendAll = () => inParallel(ctx.appliances, 50, (a) => vend(b, a.authorization));
    const notJournal = (kind: string) => kind !== 'GET changes';
    const beforeCold = snapshot();
    const cold = await vendAll();
    const afterCold = snapshot();
    const n = ctx.appliances.length;
    if (cold.some((s) => s !== 200))
      throw new Error(`cold vends: ${cold.filter((s) => s !== 200).length} not 200`);
    const coldOps = between(beforeCold, afterCold, notJournal);
    steps.push({
      name: `cold vends (${n}: directory loads + token fetch)`,
      ops: coldOps,
      detail: kindsBetween(beforeCold, afterCold),
    });
    // The journal's first polls name the appliances the population registered moments ago (it reads 30 s back),
    // and drop what the cold vends loaded before those changes: one poll interval later, a pass reloads them,
    // and only then is the warm path the steady state's.
    await new Promise((r) => setTimeout(r, JOURNAL_POLL_MS + 1_000));
    const beforeSettle = snapshot();
    await vendAll();
    steps.push({
      name: `settling vends (${n}, not priced)`,
      ops: between(beforeSettle, snapshot(), notJournal),
      detail: `entries the journal dropped for the population's own recent changes; ${kindsBetween(beforeSettle, snapshot())}`,
    });
    await b.usage.stop();
    const beforeWarm = snapshot();
    const warm = await vendAll();
    const afterWarm = snapshot();
    if (warm.some((s) => s !== 200))
      throw new Error(`warm vends: ${warm.filter((s) => s !== 200).length} not 200`);
    const warmOps = between(beforeWarm, afterWarm, notJournal);
    steps.push({ name: `warm vends (${n})`, ops: warmOps, detail: kindsBetween(beforeWarm, afterWarm) });

    const perFetch = scaleTo(fetches.ops, sample.length);
    const perVend = (kind: string) =>
      ((afterCold.kinds.get(kind) ?? 0) - (beforeCold.kinds.get(kind) ?? 0)) / n;
    const applianceRead: Ops = { ...NO_OPS, table: perVend('GET appliances') };
    const tenantRead: Ops = { ...NO_OPS, table: Math.max(0, perVend('GET tenants') - perFetch.table) };
    const recheckProof = scaleTo(proofs.ops, Math.max(1, proofTenants.length));
    const schedules = await timerSchedules();
    const schedule = (name: string) => {
      const s = schedules.get(name);
      if (!s) throw new Error(`functions/timers.ts registers no timer ${name}`);
      return ncrontabRunsPerMonth(s);
    };
    const recurring: Recurring[] = [
      {
        name: 'reverifyPendingConsents (timer)',
        scope: 'deployment',
        runsPerMonth: schedule('reverifyPendingConsents'),
        perRun: reverify.ops,
      },
      {
        name: 'recheckConsents listing (timer)',
        scope: 'deployment',
        runsPerMonth: schedule('recheckConsents'),
        perRun: listing.ops,
      },
      {
        name: 'flagExpiringCredentials (timer)',
        scope: 'deployment',
        runsPerMonth: schedule('flagExpiringCredentials'),
        perRun: expiry.ops,
      },
      {
        name: 'deliverWebhooks (timer; with endpoints, a queue read per endpoint more)',
        scope: 'deployment',
        runsPerMonth: schedule('deliverWebhooks'),
        perRun: webhooks.ops,
      },
      {
        // src/appliances/usage-hours.ts: one upsert a minute per instance that issued tokens that minute.
        name: 'tokens-per-hour write (each instance, every minute it vends)',
        scope: 'instance',
        runsPerMonth: HOURS_PER_MONTH * 60,
        perRun: { ...NO_OPS, table: 1 },
      },
      {
        name: 'purgeExpiredRows (timer)',
        scope: 'deployment',
        runsPerMonth: schedule('purgeExpiredRows'),
        perRun: purge.ops,
      },
      {
        name: 'change-journal read (every 10 s, each instance)',
        scope: 'instance',
        runsPerMonth: (HOURS_PER_MONTH * 3_600_000) / JOURNAL_POLL_MS,
        perRun: journalRead.ops,
      },
      {
        name: 'home app credential refresh (each instance)',
        scope: 'instance',
        runsPerMonth: (HOURS_PER_MONTH * 3600) / CREDENTIAL_REFRESH_SECONDS,
        perRun: refresh.ops,
      },
    ];
    const instanceStart: Ops = {
      ...NO_OPS,
      keyVault: start.ops.keyVault + firstToken.ops.keyVault + keys.ops.keyVault,
      table: start.ops.table + keys.ops.table,
    };
    const grantCosts = ctx.grants?.length ? await probeGrants(b, ctx.grants, measure) : undefined;
    ctx.log(
      `[cost] measured ${steps.length} step(s) against a broker of the bench's own (credential in Key Vault), counting proxy, Key Vault and Entra simulators`,
    );
    return {
      steps,
      grantCosts,
      measured(inputs) {
        const f = flushes.get(activeAppliancesPerFlush(inputs));
        if (!f) throw new Error('no usage flush measured for this scenario');
        return {
          warmVend: scaleTo(warmOps, n),
          tokenFetch: { ...NO_OPS, table: perFetch.table, entra: perFetch.entra },
          applianceRead,
          tenantRead,
          usageFlush: f.flush,
          auditEntry: f.audit,
          recheckProof,
          recheckPeriodHours: RECHECK_PERIOD_MS / 3_600_000,
          recurring,
          instanceStart,
        };
      },
    };
  } finally {
    await broker?.usage.stop().catch(() => undefined);
    await proxy.close();
  }
}

type Measure = <T>(
  name: string,
  run: () => Promise<T>,
  detail?: (r: T) => string,
) => Promise<{ ops: Ops; result: T }>;

/**
 * A grant's upkeep on an instance that never saw the grants: its directory entries loaded (handle link and row),
 * an access-token refresh with the first data key unwrapped (the first grant) and without (the others), and the
 * conditional write that keeps a rotated refresh token (journaled: two journal rows and the row).
 */
async function probeGrants(
  b: Broker,
  grants: readonly BenchGrant[],
  measure: Measure,
): Promise<MeasuredGrantCosts> {
  const handles = grants.map((g) => new URLSearchParams(g.form).get('refresh_token')!);
  // What the directory reads to load a grant's two entries (src/directory/record-directory.ts).
  const links = await measure(`grant handle link read (${grants.length} grants)`, () =>
    Promise.all(handles.map((h) => b.mailboxGrants.handleRef(h))),
  );
  const rows = await measure(`grant row read (${grants.length} grants)`, () =>
    Promise.all(grants.map((g) => b.mailboxGrants.get(g.tenantId, g.grantId))),
  );
  const first = await measure('grant access-token refresh, first on this instance (data key unwrapped)', () =>
    b.grantTokens.get(grantKey(grants[0]!.tenantId, grants[0]!.grantId), DELEGATED_SCOPE),
  );
  const rest = grants.slice(1);
  const others = await measure(`grant access-token refresh (${rest.length} grants, data key in memory)`, () =>
    Promise.all(rest.map((g) => b.grantTokens.get(grantKey(g.tenantId, g.grantId), DELEGATED_SCOPE))),
  );
  const stored = (await b.mailboxGrants.get(grants[0]!.tenantId, grants[0]!.grantId))!;
  const rotation = await measure('rotated refresh token kept (one conditional write, journaled)', () =>
    b.mailboxGrants.update({ ...stored, refreshTokenKeptAt: new Date().toISOString() }),
  );
  const refresh = rest.length ? scaleTo(others.ops, rest.length) : first.ops;
  return {
    linkRead: scaleTo(links.ops, grants.length),
    rowRead: scaleTo(rows.ops, grants.length),
    refresh,
    rotation: rotation.ops,
    unwrap: { ...NO_OPS, keyVault: Math.max(0, first.ops.keyVault - refresh.keyVault) },
  };
}

const scaleTo = (ops: Ops, n: number): Ops => ({
  table: ops.table / n,
  tableBatchEntities: ops.tableBatchEntities / n,
  keyVault: ops.keyVault / n,
  entra: ops.entra / n,
});

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** One token request through src/'s token endpoint, as bench/direct-host.ts builds it; its status. */
async function vend(b: Broker, authorization: string): Promise<number> {
  const request: HttpRequestLike = {
    method: 'POST',
    url: `${b.config.publicUrl}/oauth2/token`,
    headers: {
      get: (name) => {
        const n = name.toLowerCase();
        if (n === 'authorization') return authorization;
        if (n === 'content-type') return 'application/x-www-form-urlencoded';
        if (n === 'x-forwarded-for') return '127.0.0.1';
        return null;
      },
    },
    params: {},
    text: () => Promise.resolve(TOKEN_FORM),
  };
  return (await handleTokenRequest(b, request, quiet)).status;
}
