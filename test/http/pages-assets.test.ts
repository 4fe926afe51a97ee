/**
 * `GET /assets/broker.css` on the wire: the registration in functions/assets.ts served by the local Functions
 * host, as `npm start` serves it (only that registration, so this needs no broker).
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCoreModule, startFunctionsHost, type RunningHost } from '../../local/functions-host.js';
import { BROKER_CSS, STYLESHEET_PATH } from '../../src/http/pages/index.js';

describe('GET /assets/broker.css', () => {
  let host: RunningHost;

  beforeAll(async () => {
    const registry = installCoreModule();
    await import('../../functions/assets.js');
    host = await startFunctionsHost({ port: 0, registry, log: () => undefined });
  });

  afterAll(async () => {
    await host?.close();
  });

  it('answers the stylesheet, anonymous, as text/css with a long cache, also at the hashed URL pages use', async () => {
    for (const path of ['/assets/broker.css', STYLESHEET_PATH]) {
      const res = await fetch(`${host.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(BROKER_CSS);
    }
  });

  it('serves GET only', async () => {
    const res = await fetch(`${host.url}/assets/broker.css`, { method: 'POST' });
    expect(res.status).toBe(404);
  });
});
