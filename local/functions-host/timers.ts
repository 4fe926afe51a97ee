/**
 * Timer triggers on their NCRONTAB schedules (six fields, seconds first, UTC), as the Functions timer trigger
 * runs them: https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions.
 * Runs of one timer never overlap.
 * @module
 */
import { CronExpressionParser } from 'cron-parser';
import { invoke, type Registry, type TimerFunction } from './core-module.js';
import { invocationContext } from './request.js';

/** Schedules a timer function; returns what stops it. */
export function scheduleTimer(
  registry: Registry,
  timer: TimerFunction,
  log: (line: string) => void,
): () => void {
  const expression = CronExpressionParser.parse(timer.schedule, { tz: 'UTC' });
  let handle: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = new Date();
  const run = async (isPastDue: boolean) => {
    const context = invocationContext(timer.name, log);
    try {
      const schedule = { last: last.toISOString(), next: '', lastUpdated: new Date().toISOString() };
      await invoke(registry, timer.handler, [{ isPastDue, scheduleStatus: schedule }, context], context);
    } catch (err) {
      context.error(`timer failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    last = new Date();
  };
  const next = () => {
    if (stopped) return;
    const at = expression.next().getTime();
    handle = setTimeout(() => void run(Date.now() - at > 1_000).then(next), Math.max(0, at - Date.now()));
    handle.unref();
  };
  log(`timer ${timer.name}: ${timer.schedule}`);
  if (timer.runOnStartup) void run(false).then(next);
  else next();
  return () => {
    stopped = true;
    if (handle) clearTimeout(handle);
  };
}
