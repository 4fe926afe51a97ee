/**
 * One load measurement with autocannon: the same connections, duration and pipelining (1) for every target,
 * after an unrecorded warm-up of the same shape (JIT, connection pools). The request list is spread over the
 * connections round-robin (connection i sends requests i, i+c, i+2c, … in turn), so that every appliance is
 * used and no connection carries a list of all of them. Latency percentiles come from autocannon's own
 * per-response times (microsecond resolution; its summary histogram rounds to whole milliseconds), 2xx only,
 * as autocannon's own latency figures are.
 * @module
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface LoadOptions {
  readonly title: string;
  readonly url: string;
  readonly requests: readonly LoadRequest[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Called before each measured run (round) of this target, after the warm-up (e.g. to read counters)… */
  readonly beforeMeasure?: () => void | Promise<void>;
  /** …and after it. */
  readonly afterMeasure?: () => void | Promise<void>;
  /** CPU seconds used so far by the server under test, to tell which side limits the rate. */
  readonly serverCpuSeconds?: () => Promise<number>;
}

export interface LoadResult {
  readonly title: string;
  /** 2xx answers per second of the measured run. */
  readonly rps: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationSeconds: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** autocannon's own summary, whole milliseconds, for comparison (the highest of the rounds). */
  readonly autocannonP50Ms: number;
  readonly autocannonP99Ms: number;
  /** CPU time per answered request of the server under test and of this process (the load generator), µs. */
  readonly serverCpuUsPerRequest: number;
  readonly loadCpuUsPerRequest: number;
  /** In how many interleaved rounds the duration was spent (`measureInterleaved`). */
  readonly rounds: number;
}

export async function measure(options: LoadOptions): Promise<LoadResult> {
  return (await measureInterleaved([options], 1))[0]!;
}

/**
 * Several targets measured in turns: after each target's warm-up, `rounds` rounds in which every target runs
 * for its `durationSeconds / rounds` (the order turning by one each round); each figure sums its target's
 * rounds. On a shared machine the speed of the same server drifts by a third within minutes (a bare
 * node:http server measured 41,600–59,200 req/s in four consecutive 8 s runs); taking turns exposes every
 * target to the same drift, so that their ratios are not decided by which one ran during a slow minute.
 */
export async function measureInterleaved(
  targets: readonly LoadOptions[],
  rounds: number,
): Promise<LoadResult[]> {
  for (const t of targets) if (t.warmupSeconds > 0) await run(t, t.warmupSeconds, new Latencies());
  const totals = targets.map(() => ({
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    duration: 0,
    serverSeconds: 0,
    loadMicros: 0,
    acP50: [] as number[],
    acP99: [] as number[],
    latencies: new Latencies(),
  }));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (round + k) % targets.length;
      const t = targets[i]!;
      const sum = totals[i]!;
      await t.beforeMeasure?.();
      const serverBefore = (await t.serverCpuSeconds?.()) ?? NaN;
      const loadBefore = process.cpuUsage();
      const r = await run(t, Math.max(1, Math.round(t.durationSeconds / rounds)), sum.latencies);
      const load = process.cpuUsage(loadBefore);
      sum.serverSeconds += ((await t.serverCpuSeconds?.()) ?? NaN) - serverBefore;
      await t.afterMeasure?.();
      sum.loadMicros += load.user + load.system;
      sum.ok += r['2xx'];
      sum.non2xx += r.non2xx;
      sum.errors += r.errors;
      sum.timeouts += r.timeouts;
      sum.duration += r.duration;
      sum.acP50.push(r.latency.p50);
      sum.acP99.push(r.latency.p99);
    }
  }
  return targets.map((t, i) => {
    const sum = totals[i]!;
    const answered = sum.ok + sum.non2xx;
    return {
      title: t.title,
      rps: sum.ok / sum.duration,
      ok: sum.ok,
      non2xx: sum.non2xx,
      errors: sum.errors,
      timeouts: sum.timeouts,
      durationSeconds: sum.duration,
      p50Ms: sum.latencies.percentile(0.5),
      p90Ms: sum.latencies.percentile(0.9),
      p99Ms: sum.latencies.percentile(0.99),
      maxMs: sum.latencies.percentile(1),
      autocannonP50Ms: Math.max(...sum.acP50),
      autocannonP99Ms: Math.max(...sum.acP99),
      serverCpuUsPerRequest: (sum.serverSeconds * 1e6) / answered,
      loadCpuUsPerRequest: sum.loadMicros / answered,
      rounds,
    };
  });
}

/** One autocannon run; 2xx response times go into `latencies`. */
async function run(
  options: LoadOptions,
  durationSeconds: number,
  latencies: Latencies,
): Promise<autocannon.Result> {
  const all = options.requests.map((r) => ({ method: 'POST' as const, ...r }));
  if (all.length === 0) throw new Error('no requests to send');
  let next = 0;
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: durationSeconds,
        ...all[0]!,
        setupClient: (client) => {
          const i = next++;
          const mine = all.filter((_, k) => k % options.connections === i % options.connections);
          client.setRequests(mine.length > 0 ? mine : [all[i % all.length]!]);
        },
      },
      (err: unknown, done: autocannon.Result) => (err ? reject(err as Error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTime);
    });
  });
}

/** Response times in ms, kept in a growing Float64Array (bounded by the run: duration × rate). */
class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;
  private sorted: Float64Array | undefined;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
    this.sorted = undefined;
  }

  percentile(q: number): number {
    if (this.n === 0) return NaN;
    this.sorted ??= this.values.slice(0, this.n).sort();
    return this.sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!;
  }
}
