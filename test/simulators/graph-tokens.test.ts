/**
 * Token checks of the Graph simulator that need tokens the control surface does not mint (expired, not yet
 * valid, v2 format, other tenants). These call the simulator's route handlers with a private World and key, not
 * over a socket: the wire behaviour is covered in graph.test.ts.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { issueAppToken } from '../../simulators/common/app-token.js';
import type { SimRequest, SimRoute } from '../../simulators/common/server.js';
import { createTokenKeys } from '../../simulators/common/tokens.js';
import { GRAPH, GRAPH_APP_ID } from '../../simulators/common/well-known.js';
import { World } from '../../simulators/common/world.js';
import type { SimContext } from '../../simulators/context.js';
import { graphRoutes } from '../../simulators/graph/index.js';

const keys = createTokenKeys();
const world = new World();
const ctx: SimContext = {
  world,
  keys,
  urls: { entra: 'https://login.test', graph: 'https://graph.test', keyVault: 'https://vault.test' },
};
const routes = graphRoutes(ctx);
const tenant = world.addTenant({ displayName: 'Token Tests' });
const app = world.addApp({ displayName: 'client', homeTenantId: tenant.id });
const sp = world.grantConsent(tenant, app, { [GRAPH_APP_ID]: ['Organization.Read.All'] }, 0);

function token(opts: { nowMs?: number; lifetimeSeconds?: number; version?: 1 | 2 } = {}): Promise<string> {
  return issueAppToken(keys, {
    tenant,
    client: app,
    servicePrincipal: sp,
    resource: GRAPH,
    audience: 'https://graph.microsoft.com',
    credentialType: 2,
    version: opts.version ?? 1,
    cloud: ctx.world.cloud,
    nowMs: opts.nowMs ?? Date.now(),
    lifetimeSeconds: opts.lifetimeSeconds,
  }).then((t) => t.accessToken);
}

async function getOrganization(bearer: string): Promise<{ status: number; body: unknown }> {
  const route = routes.find((r: SimRoute) => r.method === 'GET' && r.path === '/v1.0/organization')!;
  const req: SimRequest = {
    method: 'GET',
    url: new URL('https://graph.test/v1.0/organization'),
    path: '/v1.0/organization',
    params: {},
    headers: { authorization: `Bearer ${bearer}` },
    body: '',
  };
  const res = await route.handler(req);
  return { status: res.status, body: res.body };
}

describe('Graph simulator token checks (FACTS.md §4.1)', () => {
  it('accepts a v1 token for Graph', async () => {
    expect((await getOrganization(await token())).status).toBe(200);
  });

  it('accepts a v2 token whose aud is the Graph app id', async () => {
    expect((await getOrganization(await token({ version: 2 }))).status).toBe(200);
  });

  it('refuses an expired token: 401 InvalidAuthenticationToken', async () => {
    const expired = await token({ nowMs: Date.now() - 2 * 3600_000, lifetimeSeconds: 3600 });
    expect(await getOrganization(expired)).toEqual({
      status: 401,
      body: {
        error: expect.objectContaining({
          code: 'InvalidAuthenticationToken',
          message: 'Lifetime validation failed, the token is expired.',
        }),
      },
    });
  });

  it('refuses a token that is not yet valid (nbf in the future)', async () => {
    const future = await token({ nowMs: Date.now() + 3600_000 });
    expect((await getOrganization(future)).status).toBe(401);
  });

  it('refuses a token signed by another key', async () => {
    const other = createTokenKeys();
    const forged = await other.sign({
      aud: 'https://graph.microsoft.com',
      tid: tenant.id,
      appid: app.appId,
      oid: sp.objectId,
      roles: ['Organization.Read.All'],
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect((await getOrganization(forged)).status).toBe(401);
  });

  it('refuses a token naming a tenant the cloud does not have', async () => {
    const stray = await keys.sign({
      aud: 'https://graph.microsoft.com',
      tid: '00000000-0000-0000-0000-000000000001',
      appid: app.appId,
      oid: sp.objectId,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect((await getOrganization(stray)).status).toBe(401);
  });
});
