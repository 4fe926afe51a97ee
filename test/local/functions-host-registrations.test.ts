/**
 * The local host serves what @azure/functions registers, through the library's own code path
 * (`app.http` / `app.timer` / `app.hook.appStart` → `@azure/functions-core`), over a real socket.
 * @module
 */
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { installCoreModule, startFunctionsHost, type RunningHost } from '../../local/functions-host.js';

const registry = installCoreModule();
const { app, HttpRequest } = createRequire(import.meta.url)(
  '@azure/functions',
) as typeof import('@azure/functions');

const ticks: boolean[] = [];
const wrapped: string[] = [];
// A preInvocation hook may replace the handler, as functions/runtime.ts does to set the correlation id.
app.hook.preInvocation((ctx) => {
  const handler = ctx.functionHandler;
  ctx.functionHandler = (...args: Parameters<typeof handler>) => {
    wrapped.push(ctx.invocationContext.functionName);
    return handler(...args);
  };
});
const started: string[] = [];
app.hook.appStart(() => {
  started.push('appStart');
});
app.timer('everySecond', { schedule: '* * * * * *', handler: (timer) => void ticks.push(timer.isPastDue) });
app.http('echo', {
  methods: ['POST'],
  route: 'echo/{name}',
  authLevel: 'anonymous',
  handler: async (request, context) => ({
    status: 201,
    headers: { 'x-function': context.functionName },
    jsonBody: {
      name: request.params.name,
      body: await request.text(),
      q: request.query.getAll('q'),
      library: request instanceof HttpRequest,
      forwardedFor: request.headers.get('x-forwarded-for'),
    },
  }),
});
app.http('boom', {
  methods: ['GET'],
  route: 'boom',
  handler: () => Promise.reject(new Error('secret internals')),
});

let host: RunningHost;
afterAll(async () => {
  await host?.close();
});

describe('local Functions host', () => {
  it('runs appStart hooks, serves HTTP registrations and runs timers on their NCRONTAB schedule', async () => {
    host = await startFunctionsHost({ port: 0, registry, log: () => undefined });
    expect(started).toEqual(['appStart']);

    const res = await fetch(`${host.url}/Echo/a%20b?q=1&q=2`, {
      method: 'POST',
      body: 'hello',
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-function')).toBe('echo');
    expect(wrapped).toContain('echo');
    // The library's own HttpRequest, the caller's address appended to X-Forwarded-For as Azure's front end does.
    expect(await res.json()).toEqual({
      name: 'a b',
      body: 'hello',
      q: ['1', '2'],
      library: true,
      forwardedFor: '203.0.113.7, 127.0.0.1',
    });

    // Unknown route and unregistered method: 404 with an empty body, as on the Functions host.
    const missing = await fetch(`${host.url}/nothing`);
    expect([missing.status, await missing.text()]).toEqual([404, '']);
    expect((await fetch(`${host.url}/echo/x`)).status).toBe(404);

    // An unhandled error is a bare 500: nothing of the error reaches the caller.
    const boom = await fetch(`${host.url}/boom`);
    expect([boom.status, await boom.text()]).toEqual([500, '']);

    await new Promise((r) => setTimeout(r, 2_200));
    expect(ticks.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const res = await fetch(`${host.url}/echo/x`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
  });
});
