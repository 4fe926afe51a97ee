/**
 * At the token endpoint, an Entra ID that accepts connections and never answers. A cold
 * request (no cached token) must get `503` with `Retry-After` strictly within SPEC.md's 5 s, with room for
 * the answer itself: the Entra adapter gives one app-token request 4 s (APP_TOKEN_DEADLINE_MS,
 * src/adapters/entra/msal.ts). Before, the deadline was the 5 s itself and the answer came at 5.009 s. The
 * broker is the real one over a socket; only its ENTRA_AUTHORITY_HOST points at a TCP server that accepts
 * and stays silent (not even a TLS handshake), as a black-holed front end does.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAppliance } from '../../src/appliances/registry.js';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { newTenantRecord } from '../../src/tenants/tenant-store.js';
import { consentHomeApp, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker, type TestBroker } from './broker-host.js';

const SCOPE = 'https://outlook.office365.com/.default';
/** SPEC.md: without a cached token, an Entra outage answers 503 within this. */
const SPEC_BOUND_MS = 5_000;

let silent: Server;
const sockets = new Set<Socket>();
let broker: TestBroker;
let credential: { clientId: string; clientSecret: string };

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const hanging = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;

  // Seeded through a broker on the normal settings: an active tenant and its appliance.
  const seed = await createBroker(loadConfig(sandboxSettings()));
  const tenantId = await newTenant('Hanging Entra Ltd');
  await consentHomeApp(tenantId);
  await seed.tenants.save({
    ...newTenantRecord(tenantId),
    status: 'active',
    displayName: 'Hanging Entra Ltd',
    customerRefs: ['HANG'],
    consentedAt: new Date().toISOString(),
    grantedRoles: { [SCOPE]: ['IMAP.AccessAsApp'] },
    profiles: ['exchange-imap'],
  });
  const { appliance, clientSecret } = await registerAppliance(
    seed,
    { customerRef: 'HANG', tenantId, profiles: ['exchange-imap'], method: 'client_secret' },
    { kind: 'system', id: 'test' },
  );
  credential = { clientId: appliance.clientId, clientSecret: clientSecret! };
  // The broker under test reaches Key Vault as before (its own identity), Entra ID not at all.
  broker = await startTestBroker({ ENTRA_AUTHORITY_HOST: hanging });
});
afterAll(async () => {
  await broker?.close();
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent?.close(r));
});

describe('a token request while Entra ID accepts connections and never answers', () => {
  it('answers 503 with Retry-After strictly within 5 s, leaving a margin', { timeout: 20_000 }, async () => {
    const started = performance.now();
    const res = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credential.clientId,
        client_secret: credential.clientSecret,
        scope: SCOPE,
      }).toString(),
    });
    const body = (await res.json()) as { error: string };
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(body.error).toBe('temporarily_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // A bound, not a speed figure: the deadline is 4 s, so anything near 5 s means it was not applied.
    expect(elapsed).toBeGreaterThanOrEqual(3_900);
    expect(elapsed).toBeLessThan(SPEC_BOUND_MS);
    expect(sockets.size).toBeGreaterThan(0); // it really tried the silent Entra
  });
});
