/**
 * `GET /api/health` (SPEC.md): liveness plus the state of each dependency, with no secrets and no tenant
 * data. Results are shared for a few seconds and concurrent callers share one round of probes, so an
 * anonymous caller cannot turn the endpoint into load on Key Vault, Table Storage or Entra ID.
 * @module
 */

export interface DependencyProbe {
  readonly name: string;
  /** Resolves when the dependency answers as expected; rejects otherwise. Must not reveal secrets. */
  probe(): Promise<void>;
}

export interface DependencyState {
  readonly status: 'up' | 'down';
  readonly latencyMs: number;
  /** Why it is down, as an error class name or "timeout": never a message that could carry a secret. */
  readonly reason?: string;
}

export interface HealthReport {
  /** `ok` when every dependency is up, `degraded` otherwise; the process itself is alive either way. */
  readonly status: 'ok' | 'degraded';
  readonly checkedAt: string;
  readonly dependencies: Readonly<Record<string, DependencyState>>;
}

export interface HealthOptions {
  readonly timeoutMs?: number;
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export function createHealthCheck(
  probes: readonly DependencyProbe[],
  options: HealthOptions = {},
): () => Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const cacheMs = options.cacheMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; report: Promise<HealthReport> } | undefined;

  const run = async (): Promise<HealthReport> => {
    const entries = await Promise.all(
      probes.map(async (p) => [p.name, await probeOnce(p, timeoutMs)] as const),
    );
    const dependencies = Object.fromEntries(entries);
    return {
      status: entries.every(([, s]) => s.status === 'up') ? 'ok' : 'degraded',
      checkedAt: new Date(now()).toISOString(),
      dependencies,
    };
  };

  return () => {
    if (!cached || now() - cached.at >= cacheMs) cached = { at: now(), report: run() };
    return cached.report;
  };
}

async function probeOnce(p: DependencyProbe, timeoutMs: number): Promise<DependencyState> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p.probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProbeTimeout()), timeoutMs);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const reason = err instanceof ProbeTimeout ? 'timeout' : err instanceof Error ? err.name : 'error';
    return { status: 'down', latencyMs: Math.round(performance.now() - started), reason };
  } finally {
    clearTimeout(timer);
  }
}

class ProbeTimeout extends Error {
  constructor() {
    super('timeout');
    this.name = 'ProbeTimeout';
  }
}
