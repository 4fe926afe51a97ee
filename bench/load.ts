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
  /** Called between the warm-up and the measured run (e.g. to read counters). */
  readonly beforeMeasure?: () => void | Promise<void>;
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
  /** autocannon's own summary, whole milliseconds, for comparison. */
  readonly autocannonP50Ms: number;
  readonly autocannonP99Ms: number;
  /** CPU time per answered request of the server under test and of this process (the load generator), µs. */
  readonly serverCpuUsPerRequest: number;
  readonly loadCpuUsPerRequest: number;
}

export async function measure(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await run(options, options.warmupSeconds);
  await options.beforeMeasure?.();
  const serverBefore = (await options.serverCpuSeconds?.()) ?? NaN;
  const loadBefore = process.cpuUsage();
  const result = await run(options, options.durationSeconds);
  const load = process.cpuUsage(loadBefore);
  const serverSeconds = ((await options.serverCpuSeconds?.()) ?? NaN) - serverBefore;
  const answered = result.ok + result.non2xx;
  return {
    ...result,
    serverCpuUsPerRequest: (serverSeconds * 1e6) / answered,
    loadCpuUsPerRequest: (load.user + load.system) / answered,
  };
}

async function run(
  options: LoadOptions,
  durationSeconds: number,
): Promise<Omit<LoadResult, 'serverCpuUsPerRequest' | 'loadCpuUsPerRequest'>> {
  const all = options.requests.map((r) => ({ method: 'POST' as const, ...r }));
  if (all.length === 0) throw new Error('no requests to send');
  let next = 0;
  const latencies = new Latencies();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
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
  const ok = result['2xx'];
  return {
    title: options.title,
    rps: ok / result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    p50Ms: latencies.percentile(0.5),
    p90Ms: latencies.percentile(0.9),
    p99Ms: latencies.percentile(0.99),
    maxMs: latencies.percentile(1),
    autocannonP50Ms: result.latency.p50,
    autocannonP99Ms: result.latency.p99,
  };
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
