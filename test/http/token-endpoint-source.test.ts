/**
 * The caller's address as the token endpoint throttles it (src/http/token-endpoint.ts `sourceAddress`):
 * Azure's front ends may append `ip:port` to X-Forwarded-For, a new port per connection, so the port is
 * stripped (docs/security.md D9). Over the domain's in-memory ports (test/helpers/vend-deps.ts).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleTokenRequest, sourceAddress } from '../../src/http/token-endpoint.js';
import type { HttpRequestLike } from '../../src/http/types.js';
import { loadProfiles, type Profiles } from '../../src/profiles/profiles.js';
import { EXCHANGE, vendSetup } from '../helpers/vend-deps.js';

let profiles: Profiles;
beforeAll(async () => {
  profiles = await loadProfiles(undefined);
});

const log = { error: () => undefined, warn: () => undefined, log: () => undefined };

function request(headers: Record<string, string>): HttpRequestLike {
  return {
    method: 'POST',
    url: 'http://localhost/oauth2/token',
    headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers }),
    params: {},
    text: async () => `grant_type=client_credentials&scope=${encodeURIComponent(EXCHANGE)}`,
  };
}

describe('token endpoint source address', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:50123', '203.0.113.7'],
    ['10.0.0.1, 203.0.113.7:443', '203.0.113.7'],
    ['[2001:DB8::1]:50123', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['[::ffff:203.0.113.7]:8080', '203.0.113.7'],
  ])('reads X-Forwarded-For %s as %s (the port stripped)', (forwarded, address) => {
    expect(sourceAddress(request({ 'x-forwarded-for': forwarded }))).toBe(address);
  });

  it.each([
    ['IPv4', (port: number) => `203.0.113.7:${port}`],
    ['bracketed IPv6', (port: number) => `[2001:db8::7]:${port}`],
  ])(
    'blocks a %s source after 30 failures a minute even when each comes from a new port',
    async (_, forwarded) => {
      const s = vendSetup(profiles);
      const unknown = (i: number) => `Basic ${Buffer.from(`${randomUUID()}:guess-${i}`).toString('base64')}`;
      for (let i = 0; i < 30; i++) {
        const res = await handleTokenRequest(
          s.deps,
          request({ authorization: unknown(i), 'x-forwarded-for': forwarded(40_000 + i) }),
          log,
        );
        expect(res.status).toBe(401);
      }
      const blocked = await handleTokenRequest(
        s.deps,
        request({ authorization: unknown(30), 'x-forwarded-for': forwarded(41_000) }),
        log,
      );
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers?.['retry-after'])).toBeGreaterThan(0);
    },
  );
});
