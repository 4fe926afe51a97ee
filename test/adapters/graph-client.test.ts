/**
 * The Graph Directory adapter with the real `@microsoft/microsoft-graph-client` against the Graph simulator over
 * real sockets (no SDK mocks). Tokens come from the simulated Entra ID through the control surface, after a
 * consent granted in a tenant of this file's own.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createGraphDirectory } from '../../src/adapters/graph/graph-client.js';
import { GraphRefused, GraphUnavailable, type Directory } from '../../src/adapters/graph/port.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const graphUrl = inject('graphUrl');
const controlUrl = inject('controlUrl');
const sandbox = inject('sandbox');
const richApp = sandbox.homeApp.clientId;
const bareApp = sandbox.brokerIdentity.clientId;

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The token function the broker will back with its Entra adapter; here the control route mints the token. */
function tokensFor(appId: string, seen: string[] = []): (tenantId: string) => Promise<string> {
  return async (tenantId) => {
    seen.push(tenantId);
    const r = await control('POST', '/_sim/tokens/app', {
      tenant: tenantId,
      appId,
      resource: 'https://graph.microsoft.com',
    });
    return r.access_token as string;
  };
}

/** A fault for requests whose (percent-encoded) path contains `pathContains`. */
async function fault(spec: Record<string, unknown> & { pathContains: string }): Promise<void> {
  await control('POST', '/_sim/faults', {
    target: 'graph',
    ...spec,
    pathContains: encodeURIComponent(spec.pathContains),
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const suffix = randomUUID().slice(0, 8);
const domain = `graphadapter-${suffix}.example`;
const reachable = `frontdesk@${domain}`;
const restricted = `boss@${domain}`;
const noMailbox = `nomail@${domain}`;
let tenantId: string;
let richSpId: string;
let bareSpId: string;
let directory: Directory;
let bareDirectory: Directory;
const tenantsAsked: string[] = [];

beforeAll(async () => {
  const tenant = await control('POST', '/_sim/tenants', {
    displayName: 'Adapter Tests Ltd',
    domains: [domain],
  });
  tenantId = tenant.id as string;
  const rich = await control('POST', `/_sim/tenants/${tenantId}/consents`, {
    appId: richApp,
    roles: { [GRAPH_APP_ID]: ['Organization.Read.All', 'Mail.Read', 'Application.Read.All'] },
  });
  richSpId = rich.objectId as string;
  const bare = await control('POST', `/_sim/tenants/${tenantId}/consents`, { appId: bareApp, roles: {} });
  bareSpId = bare.objectId as string;
  await control('POST', `/_sim/tenants/${tenantId}/mailboxes`, { address: reachable });
  await control('POST', `/_sim/tenants/${tenantId}/mailboxes`, {
    address: restricted,
    deniedAppIds: [richApp],
  });
  await control('POST', `/_sim/tenants/${tenantId}/users`, { userPrincipalName: noMailbox });
  directory = createGraphDirectory({
    graphEndpoint: graphUrl,
    accessToken: tokensFor(richApp, tenantsAsked),
  });
  bareDirectory = createGraphDirectory({ graphEndpoint: graphUrl, accessToken: tokensFor(bareApp) });
});

describe('Directory.organization', () => {
  it("reads the tenant's name and verified domains with the tenant's own token (FACTS.md §7)", async () => {
    const org = await directory.organization(tenantId);
    expect(org).toEqual({
      displayName: 'Adapter Tests Ltd',
      verifiedDomains: [
        { name: expect.stringMatching(/\.onmicrosoft\.com$/), isDefault: false, isInitial: true },
        { name: domain, isDefault: true, isInitial: false },
      ],
    });
    expect(tenantsAsked).toContain(tenantId);
  });

  it('is refused without Organization.Read.All: GraphRefused 403 Authorization_RequestDenied, no token in it', async () => {
    const err = await rejection(bareDirectory.organization(tenantId));
    expect(err).toBeInstanceOf(GraphRefused);
    expect(err).toMatchObject({ status: 403, code: 'Authorization_RequestDenied' });
    expect(String((err as Error).message)).not.toMatch(/eyJ/);
  });
});

describe('Directory.servicePrincipalByAppId', () => {
  it('finds an app consented in the tenant', async () => {
    expect(await directory.servicePrincipalByAppId(tenantId, bareApp)).toEqual({
      id: bareSpId,
      appId: bareApp,
      displayName: expect.any(String),
      accountEnabled: true,
    });
  });

  it('lets an app without permissions find its own service principal (serviceprincipal-get.md)', async () => {
    expect(await bareDirectory.servicePrincipalByAppId(tenantId, bareApp)).toMatchObject({ id: bareSpId });
    expect(await directory.servicePrincipalByAppId(tenantId, richApp)).toMatchObject({ id: richSpId });
  });

  it('answers undefined for an app with no service principal in the tenant', async () => {
    expect(await directory.servicePrincipalByAppId(tenantId, randomUUID())).toBeUndefined();
  });

  it("refuses another app's service principal without Application.Read.All", async () => {
    const err = await rejection(bareDirectory.servicePrincipalByAppId(tenantId, richApp));
    expect(err).toMatchObject({ name: 'GraphRefused', status: 403, code: 'Authorization_RequestDenied' });
  });
});

describe('Directory.probeMailbox', () => {
  it('reports a mailbox the app can open as reachable', async () => {
    expect(await directory.probeMailbox(tenantId, reachable)).toEqual({ result: 'reachable' });
  });

  it('reports an unknown user as not_found ErrorInvalidUser', async () => {
    expect(await directory.probeMailbox(tenantId, `ghost@${domain}`)).toEqual({
      result: 'not_found',
      code: 'ErrorInvalidUser',
    });
  });

  it('reports a user without a mailbox as not_found MailboxNotEnabledForRESTAPI', async () => {
    expect(await directory.probeMailbox(tenantId, noMailbox)).toEqual({
      result: 'not_found',
      code: 'MailboxNotEnabledForRESTAPI',
    });
  });

  it('reports a mailbox outside the application access policy as access_denied (FACTS.md §6.4)', async () => {
    expect(await directory.probeMailbox(tenantId, restricted)).toEqual({
      result: 'access_denied',
      code: 'ErrorAccessDenied',
    });
  });

  it('reports access_denied when the app holds no Mail permission', async () => {
    expect(await bareDirectory.probeMailbox(tenantId, reachable)).toEqual({
      result: 'access_denied',
      code: 'ErrorAccessDenied',
    });
  });

  it('keeps an address with URL-special characters inside its path segment', async () => {
    expect(await directory.probeMailbox(tenantId, `a/b?c#d@${domain}`)).toEqual({
      result: 'not_found',
      code: 'ErrorInvalidUser',
    });
  });
});

describe('Directory when Graph is unavailable', () => {
  it('surfaces a 503 with a long Retry-After at once as GraphUnavailable, without sleeping it', async () => {
    const box = `u503-${randomUUID()}@${domain}`;
    await fault({ kind: 'status', status: 503, retryAfterSeconds: 30, pathContains: box, count: 1 });
    const started = Date.now();
    const err = await rejection(directory.probeMailbox(tenantId, box));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(GraphUnavailable);
    expect(err).toMatchObject({ retryAfterSeconds: 30 });
    // The fault was for one request: no retry consumed anything else, and the next call goes through.
    expect(await directory.probeMailbox(tenantId, box)).toMatchObject({ result: 'not_found' });
  });

  it('surfaces a 429 as GraphUnavailable honoring Retry-After (G-ERR)', async () => {
    const box = `u429-${randomUUID()}@${domain}`;
    await fault({ kind: 'throttle', retryAfterSeconds: 120, pathContains: box, count: 1 });
    const err = await rejection(directory.probeMailbox(tenantId, box));
    expect(err).toBeInstanceOf(GraphUnavailable);
    expect(err).toMatchObject({ retryAfterSeconds: 120 });
  });

  it('lets the SDK retry once when Graph asks for a short wait', async () => {
    await fault({ kind: 'throttle', retryAfterSeconds: 1, pathContains: reachable, count: 1 });
    const started = Date.now();
    expect(await directory.probeMailbox(tenantId, reachable)).toEqual({ result: 'reachable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('retries at most once, then reports GraphUnavailable', async () => {
    const spKey = randomUUID();
    await fault({ kind: 'status', status: 503, retryAfterSeconds: 1, pathContains: spKey, count: 2 });
    const started = Date.now();
    const err = await rejection(directory.servicePrincipalByAppId(tenantId, spKey));
    expect(err).toMatchObject({ name: 'GraphUnavailable', retryAfterSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(2_500);
    // Both faulty answers went to that call (first try + one retry); the next call meets none.
    expect(await directory.servicePrincipalByAppId(tenantId, spKey)).toBeUndefined();
  });

  it('reports a dropped connection as GraphUnavailable', async () => {
    const box = `reset-${randomUUID()}@${domain}`;
    await fault({ kind: 'reset', pathContains: box, count: 1 });
    await expect(directory.probeMailbox(tenantId, box)).rejects.toMatchObject({
      name: 'GraphUnavailable',
      retryAfterSeconds: 5,
    });
  });

  it('gives up after its deadline on a slow Graph', async () => {
    const box = `slow-${randomUUID()}@${domain}`;
    await fault({ kind: 'slow', delayMs: 3_000, pathContains: box, count: 1 });
    const impatient = createGraphDirectory({
      graphEndpoint: graphUrl,
      accessToken: tokensFor(richApp),
      timeoutMs: 300,
    });
    const started = Date.now();
    await expect(impatient.probeMailbox(tenantId, box)).rejects.toBeInstanceOf(GraphUnavailable);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('createGraphDirectory', () => {
  it("lets the token function's own errors through unchanged", async () => {
    class NoConsent extends Error {}
    const failing = createGraphDirectory({
      graphEndpoint: graphUrl,
      accessToken: () => Promise.reject(new NoConsent('AADSTS7000229')),
    });
    await expect(failing.organization(tenantId)).rejects.toBeInstanceOf(NoConsent);
  });

  it('refuses a plain-http endpoint, to which the SDK would send no token', () => {
    expect(() =>
      createGraphDirectory({ graphEndpoint: 'http://localhost:1', accessToken: () => Promise.resolve('x') }),
    ).toThrow(TypeError);
  });
});
