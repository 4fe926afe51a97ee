/**
 * The Entra simulator's consent that replicates in parts (`PUT /_sim/tenants/{id}/role-replication-delay`): the
 * service principal is there at once, its app roles reach tokens only later, and meanwhile tokens may lack
 * `oid` — as real Entra does right after admin consent (microsoftgraph/microsoft-graph-docs#10907, #4765;
 * FACTS.md §3, ARO-RP). Each test has its own tenant and app.
 * @module
 */
import { decodeJwt } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { control } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const EXO = 'https://outlook.office365.com/.default';
const GRAPH = 'https://graph.microsoft.com/.default';
const REDIRECT_URI = 'https://isv.example/consent/callback';

async function setUp(name: string): Promise<{ tenantId: string; appId: string; secret: string }> {
  const { id: tenantId } = await control<{ id: string }>('POST', '/_sim/tenants', { displayName: name });
  await control('POST', `/_sim/tenants/${tenantId}/users`, {
    userPrincipalName: `ga@${tenantId}.example`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const { appId } = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Replication test app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: [REDIRECT_URI],
    requiredRoles: { [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'], [GRAPH_APP_ID]: ['Organization.Read.All'] },
  });
  const { value } = await control<{ value: string }>('POST', `/_sim/apps/${appId}/secrets`, {});
  return { tenantId, appId, secret: value };
}

/** The admin approves on the (v1) admin-consent page. */
async function approve(tenantId: string, appId: string): Promise<void> {
  const page = await fetch(
    `${entra()}/${tenantId}/adminconsent?${new URLSearchParams({ client_id: appId, redirect_uri: REDIRECT_URI })}`,
  );
  expect(page.status).toBe(200);
  await page.text();
  const res = await fetch(`${entra()}/${tenantId}/adminconsent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: appId,
      redirect_uri: REDIRECT_URI,
      user: `ga@${tenantId}.example`,
      decision: 'approve',
    }).toString(),
  });
  expect(new URL(res.headers.get('location')!).searchParams.get('admin_consent')).toBe('True');
}

/** The claims of a client-credentials token (E-CC), which must be issued. */
async function claims(
  t: { tenantId: string; appId: string; secret: string },
  scope: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${entra()}/${t.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: t.appId,
      client_secret: t.secret,
      scope,
    }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  expect(res.status).toBe(200);
  return decodeJwt(body.access_token!);
}

describe('Entra simulator: a consent whose roles replicate after its service principal', () => {
  it('issues tokens without the named roles and without oid until the delay has passed', async () => {
    const t = await setUp('Roles Later');
    await control('PUT', `/_sim/tenants/${t.tenantId}/role-replication-delay`, {
      delayMs: 1_500,
      roles: ['Organization.Read.All'],
      withoutOid: true,
    });
    await approve(t.tenantId, t.appId);

    const exo = await claims(t, EXO);
    expect(exo.roles).toEqual(['IMAP.AccessAsApp']);
    expect(exo.oid).toBeUndefined();
    const graph = await claims(t, GRAPH);
    // E-CC: no role granted (yet) means no `roles` claim at all.
    expect(graph.roles).toBeUndefined();
    expect(graph.oid).toBeUndefined();

    await new Promise((r) => setTimeout(r, 1_600));
    const later = await claims(t, GRAPH);
    expect(later.roles).toEqual(['Organization.Read.All']);
    expect(later.oid).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  it('delays every role of the consent when none is named, and keeps oid', async () => {
    const t = await setUp('All Roles Later');
    await control('PUT', `/_sim/tenants/${t.tenantId}/role-replication-delay`, { delayMs: 60_000 });
    await approve(t.tenantId, t.appId);
    const exo = await claims(t, EXO);
    expect(exo.roles).toBeUndefined();
    expect(exo.oid).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  it('refuses a malformed setting and turns the delay off with 0', async () => {
    const t = await setUp('Bad Setting');
    const path = `${inject('controlUrl')}/_sim/tenants/${t.tenantId}/role-replication-delay`;
    const put = (body: unknown) =>
      fetch(path, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ delayMs: -1 })).status).toBe(400);
    expect((await put({ delayMs: 10, withoutOid: 'yes' })).status).toBe(400);
    expect((await put({ delayMs: 10, roles: 'IMAP.AccessAsApp' })).status).toBe(400);
    expect(await (await put({ delayMs: 60_000 })).json()).toEqual({
      tenantId: t.tenantId,
      roleReplication: { delayMs: 60_000 },
    });
    expect((await put({ delayMs: 0 })).status).toBe(200);
    await approve(t.tenantId, t.appId);
    expect((await claims(t, EXO)).roles).toEqual(['IMAP.AccessAsApp']);
  });
});
