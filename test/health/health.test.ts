import { describe, expect, it } from 'vitest';
import { createHealthCheck } from '../../src/health/health.js';

describe('health check', () => {
  it('is ok when every dependency answers, degraded with the reason (an error name, never a message) otherwise', async () => {
    class StorageUnavailable extends Error {
      override name = 'StorageUnavailable';
    }
    const check = createHealthCheck([
      { name: 'tableStorage', probe: async () => undefined },
      {
        name: 'keyVault',
        probe: async () => Promise.reject(new StorageUnavailable('secret=abc123 leaked?')),
      },
    ]);
    const report = await check();
    expect(report.status).toBe('degraded');
    expect(report.dependencies.tableStorage).toMatchObject({ status: 'up' });
    expect(report.dependencies.keyVault).toMatchObject({ status: 'down', reason: 'StorageUnavailable' });
    expect(JSON.stringify(report)).not.toContain('abc123');
  });

  it('gives up on a dependency that hangs, within the timeout', async () => {
    const check = createHealthCheck([{ name: 'entra', probe: () => new Promise(() => undefined) }], {
      timeoutMs: 50,
    });
    const started = Date.now();
    const report = await check();
    expect(report.dependencies.entra).toMatchObject({ status: 'down', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('shares one round of probes between callers within the cache period', async () => {
    let calls = 0;
    let clock = 0;
    const check = createHealthCheck([{ name: 'x', probe: async () => void calls++ }], {
      cacheMs: 1_000,
      now: () => clock,
    });
    await Promise.all([check(), check(), check()]);
    expect(calls).toBe(1);
    clock = 999;
    await check();
    expect(calls).toBe(1);
    clock = 1_000;
    expect((await check()).status).toBe('ok');
    expect(calls).toBe(2);
  });
});
