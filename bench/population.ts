/**
 * The benchmark's customers: tenants with a proven consent, one appliance each, and the warm-up of the token
 * cache. Two ways to make a consented tenant, and the run says which it used:
 * - `consent-flow` (default up to 100 tenants): the real flow, as test/helpers/consented-tenant.ts does it —
 *   tenant and Global Administrator in the simulated cloud, an onboarding through the support API, and the
 *   admin's consent in the fetch-driven browser; the broker proves it with Entra and writes the record.
 * - `store` (larger runs; ~0.5 s per tenant through the flow is too slow for 10,000): the consent is granted
 *   in the simulator's World directly (the service principal with the home app's roles, as the
 *   admin-consent page does) and the tenant record is written with the broker's own TenantStore
 *   (src/tenants/tenant-store.ts) into the broker's table, as the flow would write it once proven.
 * Appliances are always registered through `POST /api/appliances`, and the cache is warmed through the
 * token endpoint itself.
 * @module
 */
import { createDataTablesStorage } from '../src/adapters/tables/data-tables.js';
import { createTenantStore, newTenantRecord, type TenantStore } from '../src/tenants/tenant-store.js';
import { DIRECTORY_ROLES, EXCHANGE_APP_ID, GRAPH_APP_ID } from '../simulators/common/well-known.js';
import type { World } from '../simulators/common/world.js';
import { ConsentBrowser } from '../test/helpers/consent-browser.js';

export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const SCOPE_OF_RESOURCE: Readonly<Record<string, string>> = {
  [EXCHANGE_APP_ID]: EXCHANGE_SCOPE,
  [GRAPH_APP_ID]: GRAPH_SCOPE,
};
/** IMAP for the measured token; Graph mail for a second cached token per appliance (the memory figure). */
export const BENCH_PROFILES = ['exchange-imap', 'graph-mail'] as const;

export type ConsentPath = 'consent-flow' | 'store';

export interface BenchAppliance {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `Basic …` for client_secret_basic (RFC 6749 §2.3.1). */
  readonly authorization: string;
}

export interface PopulationContext {
  readonly brokerUrl: string;
  readonly staffToken: string;
  readonly world: World;
  readonly homeAppId: string;
  /** The broker's Table Storage connection string (written directly, not through the counting proxy). */
  readonly storageConnectionString: string;
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure rejects. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function postJson<T>(url: string, token: string, body: unknown, expect: number): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== expect)
    throw new Error(`POST ${new URL(url).pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function newSimTenant(world: World, index: number): { id: string; domain: string; admin: string } {
  const slug = `bench${String(index).padStart(6, '0')}`;
  const domain = `${slug}.example`;
  const tenant = world.addTenant({ displayName: `Bench Customer ${index}`, domains: [domain] });
  const admin = world.addUser(tenant, {
    userPrincipalName: `admin@${domain}`,
    displayName: `Bench Admin ${index}`,
    directoryRoles: [DIRECTORY_ROLES.globalAdministrator],
  });
  return { id: tenant.id, domain, admin: admin.objectId };
}

/** A consented tenant through the real consent flow (onboarding, simulated Microsoft consent, callback). */
async function consentThroughFlow(ctx: PopulationContext, index: number): Promise<string> {
  const t = newSimTenant(ctx.world, index);
  const { consentUrl } = await postJson<{ consentUrl: string }>(
    `${ctx.brokerUrl}/api/onboardings`,
    ctx.staffToken,
    { customerRef: `BENCH-${index}`, profiles: [...BENCH_PROFILES] },
    201,
  );
  const browser = new ConsentBrowser(ctx.brokerUrl, ctx.brokerUrl);
  const page = await browser.submit(await browser.open(`${consentUrl}/go`), {
    user: `admin@${t.domain}`,
    decision: 'approve',
  });
  if (page.status !== 200) throw new Error(`consent flow for tenant ${index}: page ${page.status}`);
  return t.id;
}

/** A consented tenant written directly: consent in the World, record through the broker's TenantStore. */
async function consentThroughStore(
  ctx: PopulationContext,
  store: TenantStore,
  index: number,
): Promise<string> {
  const t = newSimTenant(ctx.world, index);
  const tenant = ctx.world.tenants.get(t.id)!;
  const app = ctx.world.apps.get(ctx.homeAppId)!;
  const sp = ctx.world.grantConsent(tenant, app, app.requiredRoles, 0);
  const grantedRoles: Record<string, string[]> = {};
  for (const [resource, roles] of Object.entries(app.requiredRoles)) {
    const scope = SCOPE_OF_RESOURCE[resource];
    if (scope) grantedRoles[scope] = [...roles].sort();
  }
  await store.save({
    ...newTenantRecord(t.id),
    status: 'active',
    displayName: tenant.displayName,
    verifiedDomains: tenant.domains.map((d) => d.name),
    customerRefs: [`BENCH-${index}`],
    consentedAt: new Date().toISOString(),
    grantedRoles,
    servicePrincipalId: sp.objectId,
    consentedBy: { objectId: t.admin, displayName: `Bench Admin ${index}` },
    profiles: [...BENCH_PROFILES],
  });
  return t.id;
}

/** `count` consented tenants numbered from `first`, each with one client_secret appliance. */
export async function populate(
  ctx: PopulationContext,
  path: ConsentPath,
  first: number,
  count: number,
  onProgress?: (done: number) => void,
): Promise<BenchAppliance[]> {
  const store = createTenantStore(
    createDataTablesStorage({ kind: 'connectionString', connectionString: ctx.storageConnectionString }),
  );
  let done = 0;
  const indices = Array.from({ length: count }, (_, i) => first + i);
  return inParallel(indices, path === 'consent-flow' ? 4 : 16, async (index) => {
    const tenantId =
      path === 'consent-flow'
        ? await consentThroughFlow(ctx, index)
        : await consentThroughStore(ctx, store, index);
    const { clientId, clientSecret } = await postJson<{ clientId: string; clientSecret: string }>(
      `${ctx.brokerUrl}/api/appliances`,
      ctx.staffToken,
      {
        customerRef: `BENCH-${index}`,
        tenantId,
        profiles: [...BENCH_PROFILES],
        auth: { method: 'client_secret' },
      },
      201,
    );
    done += 1;
    if (onProgress && done % 1000 === 0) onProgress(done);
    return { tenantId, clientId, clientSecret, authorization: basic(clientId, clientSecret) };
  });
}

const tokenForm = (scope: string) => `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`;
export const TOKEN_FORM = tokenForm(EXCHANGE_SCOPE);

/** One token request (client_secret_basic); the answer's body, or an error naming the status. */
export async function requestToken(
  brokerUrl: string,
  authorization: string,
  scope = EXCHANGE_SCOPE,
): Promise<string> {
  const res = await fetch(`${brokerUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenForm(scope),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token request: ${res.status} ${text}`);
  const body = JSON.parse(text) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('token request: no access_token');
  return text;
}

/** Warms the token cache: one token request per appliance for `scope`. */
export async function warm(
  brokerUrl: string,
  appliances: readonly BenchAppliance[],
  scope = EXCHANGE_SCOPE,
): Promise<void> {
  await inParallel(appliances, 16, (a) => requestToken(brokerUrl, a.authorization, scope));
}
