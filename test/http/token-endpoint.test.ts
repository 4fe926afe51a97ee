/**
 * The token endpoint's HTTP layer (src/http/token-endpoint.ts) over the domain's in-memory ports: a body
 * parsed before is reused only for a form request, and a body carrying a credential is never kept.
 * @module
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { handleTokenRequest } from '../../src/http/token-endpoint.js';
import { tokenBodiesInMemory } from '../../src/vending/warm-path.js';
import type { HttpRequestLike } from '../../src/http/types.js';
import { loadProfiles, type Profiles } from '../../src/profiles/profiles.js';
import { EXCHANGE, vendSetup } from '../helpers/vend-deps.js';

let profiles: Profiles;
beforeAll(async () => {
  profiles = await loadProfiles(undefined);
});

const log = { error: () => undefined, warn: () => undefined, log: () => undefined };

function request(body: string, headers: Record<string, string>): HttpRequestLike {
  const h = new Headers(headers);
  return {
    method: 'POST',
    url: 'http://localhost/oauth2/token',
    headers: h,
    params: {},
    text: async () => body,
  };
}

describe('token endpoint bodies', () => {
  const body = `grant_type=client_credentials&scope=${encodeURIComponent(EXCHANGE)}`;

  it('reuses a parsed body only for a form request: the same bytes as text/plain are refused', async () => {
    const s = vendSetup(profiles);
    const auth = s.request().authorization!;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: auth };
    for (let i = 0; i < 2; i++) {
      const ok = await handleTokenRequest(s.deps, request(body, form), log);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body!)).toMatchObject({ token_type: 'Bearer', scope: EXCHANGE, expires_in: 3600 });
    }
    const plain = await handleTokenRequest(
      s.deps,
      request(body, { ...form, 'content-type': 'text/plain' }),
      log,
    );
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body!)).toMatchObject({ error: 'invalid_request' });
  });

  it('never keeps a body with a client secret in it', async () => {
    const s = vendSetup(profiles);
    const before = tokenBodiesInMemory();
    const post = `${body}&client_id=${s.appliance.clientId}&client_secret=s3cret`;
    const answer = await handleTokenRequest(
      s.deps,
      request(post, { 'content-type': 'application/x-www-form-urlencoded' }),
      log,
    );
    expect(answer.status).toBe(200);
    expect(tokenBodiesInMemory()).toBe(before);
    const other = `${body}&client_id=${s.appliance.clientId}`;
    await handleTokenRequest(
      s.deps,
      request(other, { 'content-type': 'application/x-www-form-urlencoded' }),
      log,
    );
    expect(tokenBodiesInMemory()).toBe(before + 1);
  });
});
