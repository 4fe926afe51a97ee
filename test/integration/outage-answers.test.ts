/**
 * One map from an outside store's outage to an answer (src/http/outage.ts; SPEC.md "Guarantees": an outage is
 * a 503 with `Retry-After`, never a 500), taken route family by route family: each store is taken away under
 * each route that uses it, and the answer is a 503 with a positive whole-second Retry-After in the family's
 * own format — RFC 6749 §5.2 `temporarily_unavailable` JSON for the token endpoint, an HTML page for the
 * browser routes, RFC 9457 problem+json with `status: 503` for the support and appliance APIs.
 *
 * A store is "taken away" by a broker whose setting for that one store (BROKER_STORAGE, KEY_VAULT_URL,
 * ENTRA_AUTHORITY_HOST) names a closed port on loopback, while the other settings are the global setup's: the
 * adapters meet a refused connection, as in a network outage, and nothing the simulators share with other
 * test files is changed. A healthy broker on the same stores makes what the routes need beforehand (tenant,
 * appliance, consent link, consent state), so each broker under test is cold: nothing it would need is in
 * its memory. The handlers are called as functions/ registers them (functions/runtime.ts keeps one broker
 * per process, and this file needs four).
 *
 * | route (family)                                 | Table Storage        | Key Vault                      | Microsoft Entra ID                 |
 * | ---------------------------------------------- | -------------------- | ------------------------------ | ---------------------------------- |
 * | POST /oauth2/token, cold (token)               | appliance lookup     | broker key (secret verifier)   | the Microsoft token                |
 * | POST /oauth2/token, warm (token)               | skipped: memory only | skipped: memory only           | skipped: served from the cache     |
 * | GET /connect/{code} (page)                     | the onboarding       | skipped: not used              | skipped: not used                  |
 * | GET /consent/callback (page)                   | the consent state    | broker key (PKCE verifier)     | the tenant check before sign-in    |
 * | GET /api/tenants/{id} (support API)            | the tenant           | skipped: not used              | staff token check (signing keys)   |
 * | PUT /api/tenants/{id}/app-credential (support) | the tenant           | storing the credential         | staff token check (signing keys) ¹ |
 * | DELETE /api/tenants/{id}/app-credential        | skipped: as PUT      | deleting the credential        | skipped: as PUT                    |
 * | DELETE /api/tenants/{id} (support, offboard)   | skipped: as PUT      | deleting the tenant's secrets  | skipped: as PUT                    |
 * | POST /appliance/onboardings (appliance API)    | appliance lookup     | broker key (secret verifier)   | skipped: not used                  |
 *
 * ¹ Past the staff token check, PUT proves the new credential with Entra; an Entra outage there is not a
 * failure of the request (src/http/app-credential-api.ts `reprove` leaves the tenant to the timer's re-check).
 *
 * The Entra ID cells are answered before src/http/outage.ts is asked: src/vending/issue.ts turns the token
 * cache's TokenUnavailable into TemporarilyUnavailable, src/consent/flow.ts the sign-in's EntraUnavailable into
 * the `temporarilyUnavailable` page, and src/http/support-api.ts `authenticate` a key set it cannot fetch into
 * its own 503. The Table Storage and Key Vault cells fail if outageOf stops mapping StorageUnavailable or
 * SecretStoreUnavailable.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { registerAppliance } from '../../src/appliances/registry.js';
import { createBroker, type Broker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { createOnboarding } from '../../src/consent/onboardings.js';
import { deleteAppCredential, putAppCredential } from '../../src/http/app-credential-api.js';
import { postApplianceOnboarding } from '../../src/http/appliance-onboardings.js';
import { connectGo, connectLanding, consentCallbackEndpoint } from '../../src/http/consent-endpoints.js';
import type { Logger } from '../../src/http/logger.js';
import { asStaff } from '../../src/http/edge.js';
import { deleteTenant, getTenant } from '../../src/http/support-api.js';
import { handleTokenRequest } from '../../src/http/token-endpoint.js';
import type { HttpReply, HttpRequestLike } from '../../src/http/types.js';
import { newTenantRecord } from '../../src/tenants/tenant-store.js';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings } from './broker-host.js';

const EXO = 'https://outlook.office365.com/.default';
const PUBLIC = 'http://localhost:7071';
const system = { kind: 'system' as const, id: 'outage-answers' };
const quiet: Logger = { log: () => undefined, warn: () => undefined, error: () => undefined };

type Store = 'Table Storage' | 'Key Vault' | 'Microsoft Entra ID';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `url` (or a connection string) with its loopback port replaced by `port`. */
const toPort = (value: string, port: number) =>
  value.replace(/(127\.0\.0\.1|localhost):\d+/, `127.0.0.1:${port}`);

/** The one setting that names the store, pointed at a closed port. */
async function without(store: Store): Promise<Record<string, string>> {
  const port = await closedPort();
  switch (store) {
    case 'Table Storage':
      return { BROKER_STORAGE: toPort(inject('tablesConnectionString'), port) };
    case 'Key Vault':
      return { KEY_VAULT_URL: toPort(inject('keyVaultUrl'), port) };
    case 'Microsoft Entra ID':
      // The home app's Entra ID only: the broker's own identity (AZURE_AUTHORITY_HOST) still reaches Key Vault.
      return { ENTRA_AUTHORITY_HOST: toPort(inject('entraUrl'), port) };
  }
}

const newBroker = (overrides: Record<string, string> = {}) =>
  createBroker(loadConfig({ ...sandboxSettings(), ...overrides }));

function request(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; params?: Record<string, string>; body?: string } = {},
): HttpRequestLike {
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    url: `${PUBLIC}${path}`,
    headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
    params: init.params ?? {},
    text: async () => init.body ?? '',
  };
}

const header = (reply: HttpReply, name: string) =>
  Object.entries(reply.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];

/** 503 and `Retry-After: <positive integer>` (RFC 9110 §10.2.3 delay-seconds). */
function expectRetryLater(reply: HttpReply): void {
  expect({ status: reply.status, body: reply.status === 503 ? '' : reply.body }).toStrictEqual({
    status: 503,
    body: '',
  });
  expect(header(reply, 'retry-after')).toMatch(/^[1-9]\d*$/);
}

/** RFC 6749 §5.2 with the `temporarily_unavailable` code (§4.1.2.1), uncached (§5.1). */
function expectOAuthUnavailable(reply: HttpReply): void {
  expectRetryLater(reply);
  expect(header(reply, 'content-type')).toMatch(/^application\/json\b/);
  expect(header(reply, 'cache-control')).toBe('no-store');
  expect(JSON.parse(reply.body!)).toStrictEqual({
    error: 'temporarily_unavailable',
    error_description: expect.any(String),
  });
}

/** The "temporarily unavailable" page (src/http/pages/error-pages.ts), nothing of the cause in it. */
function expectUnavailablePage(reply: HttpReply): void {
  expectRetryLater(reply);
  expect(header(reply, 'content-type')).toMatch(/^text\/html\b/);
  expect(reply.body).toMatch(/^<!doctype html>/i);
  expect(reply.body).toContain('temporarily unavailable');
  expect(reply.body).not.toMatch(/\n\s+at |Unavailable\b|RestError|ECONNREFUSED/);
}

/** RFC 9457 problem details with status 503. */
function expectProblemUnavailable(reply: HttpReply): void {
  expectRetryLater(reply);
  expect(header(reply, 'content-type')).toMatch(/^application\/problem\+json\b/);
  expect(JSON.parse(reply.body!)).toMatchObject({ status: 503, title: 'Service Unavailable' });
  expect(reply.body).not.toMatch(/RestError|ECONNREFUSED|\n\s+at /);
}

async function staffToken(): Promise<string> {
  const res = await fetch(`${inject('controlUrl')}/_sim/staff-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: inject('sandbox').staff.admin }),
  });
  if (!res.ok) throw new Error(`staff-token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** What the routes need, made by a healthy broker before any store is taken away. */
interface World {
  healthy: Broker;
  staff: string;
  tenantId: string;
  /** A tenant per change that must not touch the shared one (PUT, DELETE of a credential, offboarding). */
  spareTenant(name: string): Promise<string>;
  basic: string;
  /** Basic credentials of a new appliance bound to `tenantId`. */
  applianceOf(tenantId: string): Promise<string>;
  code: string;
  /** A fresh consent state for `tenantId`'s callback, and the browser cookie it is bound to. */
  consentState(): Promise<{ state: string; cookie: string }>;
}

let world: World;

beforeAll(async () => {
  const healthy = await newBroker();
  const tenantId = await newTenant('Outage Answers Ltd', ['outageanswers.example']);
  await consentHomeApp(tenantId);
  const saveTenant = async (id: string, name: string) =>
    healthy.tenants.save({
      ...newTenantRecord(id),
      status: 'active',
      displayName: name,
      customerRefs: ['OUTAGE'],
      consentedAt: new Date().toISOString(),
      grantedRoles: { [EXO]: ['IMAP.AccessAsApp'] },
      profiles: ['exchange-imap'],
    });
  await saveTenant(tenantId, 'Outage Answers Ltd');
  const applianceOf = async (id: string) => {
    const { appliance, clientSecret } = await registerAppliance(
      healthy,
      { customerRef: 'OUTAGE', tenantId: id, profiles: ['exchange-imap'], method: 'client_secret' },
      system,
    );
    return `Basic ${Buffer.from(`${appliance.clientId}:${clientSecret!}`).toString('base64')}`;
  };
  const { code } = await createOnboarding(
    healthy,
    { customerRef: 'OUTAGE', applianceId: null, profiles: ['exchange-imap'] },
    system,
  );
  world = {
    healthy,
    staff: await staffToken(),
    tenantId,
    async spareTenant(name) {
      const id = await newTenant(name);
      await consentHomeApp(id);
      await saveTenant(id, name);
      return id;
    },
    basic: await applianceOf(tenantId),
    applianceOf,
    code,
    async consentState() {
      const go = await connectGo(healthy, request('GET', `/connect/${code}/go`, { params: { code } }), quiet);
      expect(go.status).toBe(302);
      const state = new URL(header(go, 'location')!).searchParams.get('state')!;
      const cookie = header(go, 'set-cookie')!.split(';')[0]!;
      return { state, cookie };
    },
  };
  // The healthy broker answers every route of the table, so that a 503 below is the outage's.
  expect((await token(healthy)).status).toBe(200);
  expect((await landingPage(healthy)).status).toBe(200);
  expect((await tenantDetails(healthy)).status).toBe(200);
  expect((await applianceOnboarding(healthy)).status).toBe(201);
});

// The routes, called as functions/ registers them (functions/token.ts, connect.ts, support-api.ts,
// appliance-onboardings.ts).

const token = (b: Broker, authorization = world.basic) =>
  handleTokenRequest(
    b,
    request('POST', '/oauth2/token', {
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: EXO }).toString(),
    }),
    quiet,
  );

const landingPage = (b: Broker) =>
  connectLanding(b, request('GET', `/connect/${world.code}`, { params: { code: world.code } }), quiet);

async function consentCallback(b: Broker): Promise<HttpReply> {
  const { state, cookie } = await world.consentState();
  const query = new URLSearchParams({ admin_consent: 'True', tenant: world.tenantId, state });
  return consentCallbackEndpoint(
    b,
    request('GET', `/consent/callback?${query}`, { headers: { cookie } }),
    quiet,
  );
}

const staffRequest = (method: string, path: string, params: Record<string, string>, body?: unknown) =>
  request(method, path, {
    headers: {
      authorization: `Bearer ${world.staff}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    params,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

function tenantDetails(b: Broker): Promise<HttpReply> {
  const req = staffRequest('GET', `/api/tenants/${world.tenantId}`, { tenantId: world.tenantId });
  return asStaff(b, req, 'Broker.Read', quiet, () => getTenant(b, req));
}

const ownApp = () => ({
  clientId: randomUUID(),
  clientSecret: 'own-app-secret-value',
  expiresOn: new Date(Date.now() + 90 * 86_400_000).toISOString(),
});

async function setAppCredential(b: Broker, tenantId: string): Promise<HttpReply> {
  const req = staffRequest('PUT', `/api/tenants/${tenantId}/app-credential`, { tenantId }, ownApp());
  return asStaff(b, req, 'Broker.Admin', quiet, (staff) => putAppCredential(b, req, staff));
}

async function removeAppCredential(b: Broker, tenantId: string): Promise<HttpReply> {
  const req = staffRequest('DELETE', `/api/tenants/${tenantId}/app-credential`, { tenantId });
  return asStaff(b, req, 'Broker.Admin', quiet, (staff) => deleteAppCredential(b, req, staff));
}

async function offboard(b: Broker, tenantId: string): Promise<HttpReply> {
  const req = staffRequest('DELETE', `/api/tenants/${tenantId}`, { tenantId });
  return asStaff(b, req, 'Broker.Admin', quiet, (staff) => deleteTenant(b, req, staff));
}

const applianceOnboarding = (b: Broker) =>
  postApplianceOnboarding(
    b,
    request('POST', '/appliance/onboardings', { headers: { authorization: world.basic } }),
    quiet,
  );

describe('Table Storage taken away', () => {
  let b: Broker;
  beforeAll(async () => {
    b = await newBroker(await without('Table Storage'));
  });

  it('token endpoint (cold): 503 temporarily_unavailable (RFC 6749 §5.2) with Retry-After', async () => {
    expectOAuthUnavailable(await token(b));
  });
  it('GET /connect/{code}: the 503 page with Retry-After', async () => {
    expectUnavailablePage(await landingPage(b));
  });
  it('GET /consent/callback: the 503 page with Retry-After', async () => {
    expectUnavailablePage(await consentCallback(b));
  });
  it('GET /api/tenants/{id}: problem+json 503 (RFC 9457) with Retry-After', async () => {
    expectProblemUnavailable(await tenantDetails(b));
  });
  it('PUT /api/tenants/{id}/app-credential: problem+json 503 with Retry-After', async () => {
    expectProblemUnavailable(await setAppCredential(b, world.tenantId));
  });
  it('POST /appliance/onboardings: problem+json 503 with Retry-After', async () => {
    expectProblemUnavailable(await applianceOnboarding(b));
  });
});

describe('Key Vault taken away', () => {
  let b: Broker;
  beforeAll(async () => {
    b = await newBroker(await without('Key Vault'));
  });

  it('token endpoint (cold, the broker key checks the client secret): 503 temporarily_unavailable', async () => {
    expectOAuthUnavailable(await token(b));
  });
  it('GET /consent/callback (the broker key derives the PKCE verifier): the 503 page', async () => {
    expectUnavailablePage(await consentCallback(b));
  });
  it('PUT /api/tenants/{id}/app-credential: problem+json 503, and nothing recorded on the tenant', async () => {
    const tenantId = await world.spareTenant('Outage Answers Put Ltd');
    expectProblemUnavailable(await setAppCredential(b, tenantId));
    expect((await world.healthy.tenants.get(tenantId))?.appCredential ?? null).toBeNull();
  });
  it('DELETE /api/tenants/{id}/app-credential: problem+json 503', async () => {
    const tenantId = await world.spareTenant('Outage Answers Delete Ltd');
    expect((await setAppCredential(world.healthy, tenantId)).status).toBe(200);
    expectProblemUnavailable(await removeAppCredential(b, tenantId));
  });
  it('DELETE /api/tenants/{id} (offboarding): problem+json 503', async () => {
    const tenantId = await world.spareTenant('Outage Answers Offboard Ltd');
    expectProblemUnavailable(await offboard(b, tenantId));
  });
  it('POST /appliance/onboardings (the broker key checks the client secret): problem+json 503', async () => {
    expectProblemUnavailable(await applianceOnboarding(b));
  });
});

describe('Microsoft Entra ID taken away', () => {
  let b: Broker;
  beforeAll(async () => {
    b = await newBroker(await without('Microsoft Entra ID'));
  });

  it('token endpoint (cold, no Microsoft token in memory): 503 temporarily_unavailable', async () => {
    expectOAuthUnavailable(await token(b));
  });
  it('GET /consent/callback (the tenant is checked before the sign-in): the 503 page', async () => {
    expectUnavailablePage(await consentCallback(b));
  });
  it('GET /api/tenants/{id} (the staff token needs the signing keys): problem+json 503', async () => {
    expectProblemUnavailable(await tenantDetails(b));
  });
  it('PUT /api/tenants/{id}/app-credential (the staff token check): problem+json 503', async () => {
    expectProblemUnavailable(await setAppCredential(b, world.tenantId));
  });
});

describe("the service's own 503 and Retry-After reach the caller", () => {
  // Simulator faults (simulators/control.ts), each limited to paths of this file's own tenants, so that
  // other test files sharing the simulators never meet them.
  it('Key Vault answers 503 Retry-After: 2 to PUT …/app-credential: problem+json 503 with Retry-After: 2', async () => {
    const tenantId = await world.spareTenant('Outage Answers Vault Ltd');
    await control('POST', '/_sim/faults', {
      target: 'keyvault',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 2,
      pathContains: `/secrets/tenant-app-${tenantId}`,
      count: 10,
    });
    const reply = await setAppCredential(world.healthy, tenantId);
    expectProblemUnavailable(reply);
    expect(header(reply, 'retry-after')).toBe('2');
  });

  it('Entra ID answers 503 Retry-After: 3 to a cold token request: 503 temporarily_unavailable with Retry-After: 3', async () => {
    const tenantId = await world.spareTenant('Outage Answers Entra Ltd');
    const basic = await world.applianceOf(tenantId);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 3,
      pathContains: `/${tenantId}/oauth2/v2.0/token`,
      count: 10,
    });
    const reply = await token(await newBroker(), basic);
    expectOAuthUnavailable(reply);
    expect(header(reply, 'retry-after')).toBe('3');
  });
});
