/**
 * A server under test in a child Node process of its own (the broker through local/host.js, the bare
 * baseline, the oidc-provider peer): started with the bench's own Node, its output kept (last lines, for a
 * harness error) rather than printed, its readiness read from a line it prints, its RSS read from /proc.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ChildServer {
  readonly pid: number;
  /** The first match of `ready` in the child's output. */
  readonly ready: RegExpExecArray;
  /**
   * RSS in MiB after a full garbage collection in the child: it must run with bench/gc-on-signal.ts
   * preloaded, which collects on SIGUSR2 and prints `GC DONE`.
   */
  rssMbAfterGc(): Promise<number>;
  /** The V8 heap in use after the last `rssMbAfterGc`, MiB (what the process retains, without allocator slack). */
  heapMbAfterGc(): number;
  /** CPU time (user + system) the child has used so far, in seconds (Linux /proc). */
  cpuSeconds(): Promise<number>;
  /** The child's last lines of output (stdout and stderr). */
  tail(): string;
  stop(): Promise<void>;
}

export interface ChildOptions {
  readonly script: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly nodeOptions?: readonly string[];
  readonly ready: RegExp;
  readonly timeoutMs?: number;
  /** Run it on this CPU only (`taskset -c`, which execs Node: the pid is Node's). */
  readonly cpu?: string;
  /**
   * How long `stop` waits after SIGTERM before SIGKILL. Default 15 s; a process writing a CPU profile of a
   * long run (`--cpu-prof`, 10,000 tenants) needs longer, or it is killed before the profile is written.
   */
  readonly stopTimeoutMs?: number;
}

export async function startChildServer(options: ChildOptions): Promise<ChildServer> {
  const argv = [...(options.nodeOptions ?? []), options.script, ...(options.args ?? [])];
  const child: ChildProcess = spawn(
    options.cpu !== undefined ? 'taskset' : process.execPath,
    options.cpu !== undefined ? ['-c', options.cpu, process.execPath, ...argv] : argv,
    { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let partial = '';
  let onLine: ((line: string) => void) | undefined;
  const take = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 60) lines.shift();
      onLine?.(line);
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const tail = () => [...lines, partial].join('\n').trim();

  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${options.script} was not ready within ${options.timeoutMs ?? 30_000} ms:\n${tail()}`),
      );
    }, options.timeoutMs ?? 30_000);
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited during start (${signal ?? `code ${code}`}):\n${tail()}`));
    };
    child.once('exit', exited);
    onLine = (line) => {
      const match = options.ready.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', exited);
      onLine = undefined;
      resolve(match);
    };
  });

  let heapMb = NaN;
  const rssMb = async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    return kb / 1024;
  };
  return {
    pid: child.pid!,
    ready,
    rssMbAfterGc: async () => {
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${options.script}: no GC DONE within 30 s`)),
          30_000,
        );
        onLine = (line) => {
          const m = /^GC DONE heapUsed=(\d+) external=(\d+)/.exec(line);
          if (!m) return;
          heapMb = (Number(m[1]) + Number(m[2])) / 1048576;
          clearTimeout(timer);
          onLine = undefined;
          resolve();
        };
      });
      child.kill('SIGUSR2');
      await done;
      return rssMb();
    },
    heapMbAfterGc: () => heapMb,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    tail,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
