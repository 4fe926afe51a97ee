/**
 * The benchmark's interleaved measurement (bench/load.ts `measureInterleaved`): targets take turns round by
 * round, the order turning each round, and each target's figures sum its own rounds only. Two real node:http
 * servers on loopback record which of them answered when; autocannon drives them as in `npm run bench`.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureInterleaved, type LoadOptions } from '../../bench/load.js';

const served: { server: string; at: number }[] = [];
const servers: Server[] = [];

async function start(name: string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served.push({ server: name, at: performance.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let urls: { a: string; b: string };
beforeAll(async () => {
  urls = { a: await start('a'), b: await start('b') };
});
afterAll(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

describe('measureInterleaved', () => {
  it('runs the targets in turns and sums each one over its own rounds', async () => {
    const calls: string[] = [];
    const target = (name: 'a' | 'b'): LoadOptions => ({
      title: name,
      url: urls[name],
      requests: [{ path: '/t', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      connections: 2,
      durationSeconds: 2,
      warmupSeconds: 0,
      beforeMeasure: () => void calls.push(`before ${name}`),
      afterMeasure: () => void calls.push(`after ${name}`),
    });
    const [a, b] = await measureInterleaved([target('a'), target('b')], 2);

    // Round 1: a then b; round 2: b then a — so the answers come in three blocks: a, b (twice), a.
    expect(calls).toEqual([
      'before a',
      'after a',
      'before b',
      'after b',
      'before b',
      'after b',
      'before a',
      'after a',
    ]);
    const blocks = served.map((s) => s.server).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(blocks).toEqual(['a', 'b', 'a']);

    const count = (name: string) => served.filter((s) => s.server === name).length;
    // Each target's own answers only; a run's last requests in flight (one per connection) go uncounted.
    for (const [result, name] of [
      [a!, 'a'],
      [b!, 'b'],
    ] as const) {
      expect(result.ok).toBeLessThanOrEqual(count(name));
      expect(count(name) - result.ok).toBeLessThanOrEqual(2 * 2);
    }
    expect(a!.ok).toBeGreaterThan(0);
    expect(a!.durationSeconds).toBeGreaterThanOrEqual(1.9);
    expect(a!.durationSeconds).toBeLessThan(2.5);
    expect(a!.rps).toBeCloseTo(a!.ok / a!.durationSeconds, 6);
    expect(a!.rounds).toBe(2);
    expect(a!.p50Ms).toBeGreaterThan(0);
    expect(a!.p99Ms).toBeGreaterThanOrEqual(a!.p50Ms);
  });
});
