/**
 * Every support route of the catalogue (src/http/routes/catalogue.ts) checks on the wire the access it
 * declares, which is the `security` its OpenAPI document shows (test/http/routes.test.ts): without a token
 * 401 (RFC 6750 §3), with a Broker.Read token 403 on a Broker.Admin route and no refusal on a Broker.Read one.
 * A refused request changes nothing, and a Broker.Read one here only reads (unknown ids: 404).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../src/http/routes/catalogue.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let reader: string;
beforeAll(async () => {
  broker = await startTestBroker();
  reader = await broker.staffToken({ user: inject('sandbox').staff.reader, version: 2 });
});
afterAll(async () => {
  await broker?.close();
});

const staffRoutes = catalogue.filter((r) => r.access === 'Broker.Read' || r.access === 'Broker.Admin');

const call = (route: (typeof staffRoutes)[number], token?: string) =>
  fetch(`${broker.url}/${route.route.replace(/\{[^}]+\}/g, () => randomUUID())}`, {
    method: route.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(route.requestBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(route.requestBody ? { body: '{}' } : {}),
  });

describe('support routes enforce their declared access', () => {
  it('covers every support route', () => {
    expect(staffRoutes.length).toBeGreaterThanOrEqual(15);
  });

  it.each(staffRoutes.map((r) => [`${r.method} /${r.route}`, r] as const))(
    '%s: 401 without a token',
    async (_, route) => {
      const res = await call(route);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="consent-broker"');
    },
  );

  it.each(staffRoutes.map((r) => [`${r.method} /${r.route} (${r.access})`, r] as const))(
    '%s: a Broker.Read token is refused exactly when the route needs Broker.Admin',
    async (_, route) => {
      const res = await call(route, reader);
      if (route.access === 'Broker.Admin') {
        expect(res.status).toBe(403);
        expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      } else {
        expect([401, 403]).not.toContain(res.status);
      }
    },
  );
});
