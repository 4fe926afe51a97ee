/**
 * Keeping the broker's scheduled work out of the benchmark's measured rounds (bench/run.ts).
 * @module
 */
import { RECHECK_EVERY_MS } from '../src/tenants/consent-watch.js';

/** How long the broker's scheduled consent re-check may take after its mark (10,000 tenants: a table scan, ~50 proofs). */
const RECHECK_SETTLE_MS = 30_000;

/**
 * How long to wait before the measured rounds so that they fall between two runs of the broker's scheduled
 * consent re-check (functions/timers.ts `recheckConsents`, at every `everyMs` mark of the clock): that run
 * re-proves a slice of the tenants, with Entra token requests and table reads that are scheduled work, not the
 * warm path's (`entra_token_requests` = 0 on the warm path). 0 when the rounds end before the next
 * mark and the last one's work (`settleMs`) is over; else until the mark's work is over. 0 too when the rounds
 * are longer than the gap between two runs' work: no wait could keep them out.
 */
export function waitForScheduledWork(
  nowMs: number,
  measureMs: number,
  everyMs = RECHECK_EVERY_MS,
  settleMs = RECHECK_SETTLE_MS,
): number {
  if (measureMs > everyMs - settleMs) return 0;
  const lastMark = Math.floor(nowMs / everyMs) * everyMs;
  if (nowMs < lastMark + settleMs) return lastMark + settleMs - nowMs;
  const nextMark = lastMark + everyMs;
  return nowMs + measureMs < nextMark ? 0 : nextMark + settleMs - nowMs;
}
