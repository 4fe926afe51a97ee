/** The bench keeps the broker's scheduled consent re-check out of its measured rounds (bench/schedule.ts). @module */
import { describe, expect, it } from 'vitest';
import { waitForScheduledWork } from '../../bench/schedule.js';

const MINUTE = 60_000;
const EVERY = 5 * MINUTE;
const SETTLE = 30_000;
/** 12:00:00 UTC on the day of writing: a mark of the 5-minute clock. */
const MARK = Date.parse('2026-11-25T12:00:00Z');

describe('waitForScheduledWork', () => {
  it('starts at once when the rounds end before the next mark and the last mark is settled', () => {
    expect(waitForScheduledWork(MARK + MINUTE, MINUTE, EVERY, SETTLE)).toBe(0);
    expect(waitForScheduledWork(MARK + SETTLE, EVERY - SETTLE - 1, EVERY, SETTLE)).toBe(0);
  });

  it("waits for the last mark's work to be over", () => {
    expect(waitForScheduledWork(MARK + 10_000, MINUTE, EVERY, SETTLE)).toBe(20_000);
    expect(waitForScheduledWork(MARK, MINUTE, EVERY, SETTLE)).toBe(SETTLE);
  });

  it('waits past the next mark and its work when the rounds would reach it', () => {
    const now = MARK + 4 * MINUTE; // one minute before the next mark
    expect(waitForScheduledWork(now, MINUTE, EVERY, SETTLE)).toBe(MINUTE + SETTLE);
    expect(waitForScheduledWork(now, MINUTE - 1, EVERY, SETTLE)).toBe(0);
  });

  it('does not wait when the rounds are longer than the gap between two marks settled', () => {
    expect(waitForScheduledWork(MARK + 4 * MINUTE, EVERY - SETTLE + 1, EVERY, SETTLE)).toBe(0);
  });

  it('uses the broker’s re-check interval by default', () => {
    expect(waitForScheduledWork(MARK + 4 * MINUTE, 2 * MINUTE)).toBe(MINUTE + SETTLE);
  });
});
