/**
 * The Microsoft Graph simulator on the wire: raw fetch against the running simulator, with a tenant, consents
 * and mailboxes of this file's own made through the control surface (FACTS.md §7, §6.4; G-ERR).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const MAIL_READ_ID = '810c84a8-4a9e-49e6-bf7d-12d183f40d01'; // FACTS.md §5.3
const ORG_READ_ID = '498476ce-e0fe-48b0-b801-37ba7e2685c6'; // FACTS.md §5.3

const graphUrl = inject('graphUrl');
const controlUrl = inject('controlUrl');
const sandbox = inject('sandbox');
/** The app with Graph roles in our tenant. */
const richApp = sandbox.homeApp.clientId;
/** An app consented in our tenant without any Graph role. */
const bareApp = sandbox.brokerIdentity.clientId;

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

async function graphToken(
  tenant: string,
  appId: string,
  resource = 'https://graph.microsoft.com',
): Promise<string> {
  const r = await control('POST', '/_sim/tokens/app', { tenant, appId, resource });
  return r.access_token as string;
}

async function get(path: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${graphUrl}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

interface GraphErrorJson {
  error: { code: string; message: string; innerError: Record<string, string> };
}

async function expectGraphError(
  res: Response,
  status: number,
  code: string,
  message?: string,
): Promise<void> {
  const body = (await res.json()) as GraphErrorJson;
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  if (message !== undefined) expect(body.error.message).toBe(message);
  // G-ERR: innerError carries request-id and date; Graph also sends client-request-id and the ids as headers.
  expect(body.error.innerError).toEqual({
    date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
    'request-id': res.headers.get('request-id'),
    'client-request-id': expect.any(String),
  });
}

let tenantId: string;
let domain: string;
let richToken: string;
let bareToken: string;
let richSpId: string;
let bareSpId: string;
const suffix = randomUUID().slice(0, 8);
const reachable = `desk-${suffix}@graphsim-${suffix}.example`;
const restricted = `ceo-${suffix}@graphsim-${suffix}.example`;
const noMailbox = `nomail-${suffix}@graphsim-${suffix}.example`;

beforeAll(async () => {
  domain = `graphsim-${suffix}.example`;
  const tenant = await control('POST', '/_sim/tenants', {
    displayName: 'Graph Sim Tests',
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
  [richToken, bareToken] = await Promise.all([graphToken(tenantId, richApp), graphToken(tenantId, bareApp)]);
});

describe('Graph simulator: authentication', () => {
  it('refuses a request without a token: 401 InvalidAuthenticationToken with request-id (G-ERR)', async () => {
    const res = await get('/v1.0/organization', undefined, { 'client-request-id': 'abc-123' });
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('client-request-id')).toBe('abc-123');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    await expectGraphError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
  });

  it('refuses a token that is not a JWT', async () => {
    await expectGraphError(await get('/v1.0/organization', 'not-a-jwt'), 401, 'InvalidAuthenticationToken');
  });

  it('refuses a token whose signature does not verify', async () => {
    const [h, p] = richToken.split('.');
    const forged = `${h}.${p}.${Buffer.from('forged').toString('base64url')}`;
    await expectGraphError(
      await get('/v1.0/organization', forged),
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure.',
    );
  });

  it('refuses a token issued for another resource (aud must be Graph, FACTS.md §4.1)', async () => {
    const vaultToken = await graphToken(tenantId, richApp, 'https://vault.azure.net');
    await expectGraphError(await get('/v1.0/organization', vaultToken), 401, 'InvalidAuthenticationToken');
  });
});

describe('Graph simulator: GET /v1.0/organization', () => {
  it('answers the token tenant with its verified domains (FACTS.md §7, verifieddomain.md)', async () => {
    const res = await get('/v1.0/organization', richToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { value: Record<string, unknown>[] };
    expect(body.value).toHaveLength(1);
    expect(body.value[0]).toMatchObject({ id: tenantId, displayName: 'Graph Sim Tests' });
    expect(body.value[0]!.verifiedDomains).toEqual([
      {
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: false,
        isInitial: true,
        name: expect.stringMatching(/\.onmicrosoft\.com$/),
        type: 'Managed',
      },
      {
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: true,
        isInitial: false,
        name: domain,
        type: 'Managed',
      },
    ]);
  });

  it('projects $select', async () => {
    const res = await get('/v1.0/organization?$select=displayName,id', richToken);
    const body = (await res.json()) as { '@odata.context': string; value: unknown[] };
    expect(body.value).toEqual([{ displayName: 'Graph Sim Tests', id: tenantId }]);
    expect(body['@odata.context']).toBe(`${graphUrl}/v1.0/$metadata#organization(displayName,id)`);
  });

  it('refuses an unknown $select property with 400', async () => {
    await expectGraphError(await get('/v1.0/organization?$select=nope', richToken), 400, 'BadRequest');
  });

  it('refuses an app without Organization.Read.All: 403 Authorization_RequestDenied', async () => {
    await expectGraphError(
      await get('/v1.0/organization', bareToken),
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  });
});

describe('Graph simulator: service principals', () => {
  it('lets an app read its own service principal without any permission (serviceprincipal-get.md)', async () => {
    const res = await get(`/v1.0/servicePrincipals(appId='${bareApp}')`, bareToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: bareSpId,
      appId: bareApp,
      accountEnabled: true,
      servicePrincipalType: 'Application',
      appOwnerOrganizationId: sandbox.vendorTenantId,
    });
  });

  it("refuses another app's service principal without Application.Read.All", async () => {
    await expectGraphError(
      await get(`/v1.0/servicePrincipals(appId='${richApp}')`, bareToken),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('serves any SP with Application.Read.All, including Graph with its app roles (FACTS.md §5.3)', async () => {
    const res = await get(
      `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,appId,appRoles`,
      richToken,
    );
    expect(res.status).toBe(200);
    const sp = (await res.json()) as { id: string; appRoles: { id: string; value: string }[] };
    expect(sp.appRoles).toContainEqual(expect.objectContaining({ id: MAIL_READ_ID, value: 'Mail.Read' }));
    const byId = await get(`/v1.0/servicePrincipals/${sp.id}?$select=appId`, richToken);
    expect(await byId.json()).toMatchObject({ appId: GRAPH_APP_ID });
  });

  it('finds an SP by $filter=appId eq', async () => {
    const res = await get(
      `/v1.0/servicePrincipals?$filter=appId eq '${bareApp}'&$select=id,appId`,
      richToken,
    );
    expect(await res.json()).toMatchObject({ value: [{ id: bareSpId, appId: bareApp }] });
    const none = await get(`/v1.0/servicePrincipals?$filter=appId eq '${randomUUID()}'`, richToken);
    expect(await none.json()).toMatchObject({ value: [] });
  });

  it('answers 404 Request_ResourceNotFound for an app not consented in the tenant', async () => {
    const missing = randomUUID();
    await expectGraphError(
      await get(`/v1.0/servicePrincipals(appId='${missing}')`, richToken),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(
      await get(`/v1.0/servicePrincipals/${missing}`, richToken),
      404,
      'Request_ResourceNotFound',
    );
  });

  it('refuses a malformed object id and an unsupported filter with 400', async () => {
    await expectGraphError(await get('/v1.0/servicePrincipals/xyz', richToken), 400, 'Request_BadRequest');
    await expectGraphError(
      await get(`/v1.0/servicePrincipals?$filter=startswith(displayName,'a')`, richToken),
      400,
      'Request_UnsupportedQuery',
    );
  });

  it("lists an SP's app role assignments with the role ids of the resource (FACTS.md §5.3)", async () => {
    const res = await get(`/v1.0/servicePrincipals/${richSpId}/appRoleAssignments`, richToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { value: Record<string, unknown>[] };
    const graphSp = (await (
      await get(`/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id`, richToken)
    ).json()) as { id: string };
    expect(body.value.map((a) => a.appRoleId).sort()).toEqual(
      [MAIL_READ_ID, ORG_READ_ID, '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30'].sort(),
    );
    expect(body.value[0]).toEqual({
      id: expect.any(String),
      deletedDateTime: null,
      appRoleId: expect.any(String),
      createdDateTime: expect.stringMatching(/Z$/),
      principalDisplayName: expect.any(String),
      principalId: richSpId,
      principalType: 'ServicePrincipal',
      resourceDisplayName: 'Microsoft Graph',
      resourceId: graphSp.id,
    });
  });

  it('refuses app role assignments without Application.Read.All, even of its own SP', async () => {
    await expectGraphError(
      await get(`/v1.0/servicePrincipals/${bareSpId}/appRoleAssignments`, bareToken),
      403,
      'Authorization_RequestDenied',
    );
  });
});

describe('Graph simulator: GET /v1.0/users/{id}/mailFolders/inbox (the mailbox probe)', () => {
  it('answers the inbox of a reachable mailbox', async () => {
    const res = await get(`/v1.0/users/${encodeURIComponent(reachable)}/mailFolders/inbox`, richToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      '@odata.context': expect.stringContaining('/mailFolders/$entity'),
      id: expect.stringMatching(/^AAMk/),
      displayName: 'Inbox',
      parentFolderId: expect.any(String),
      childFolderCount: 0,
      unreadItemCount: 0,
      totalItemCount: 0,
      sizeInBytes: 0,
      isHidden: false,
    });
  });

  it('is case-insensitive on the UPN and accepts $select', async () => {
    const res = await get(`/v1.0/users/${reachable.toUpperCase()}/mailFolders/Inbox?$select=id`, richToken);
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object)).toEqual(['@odata.context', 'id']);
  });

  it('refuses a mailbox outside the app access policy: 403 ErrorAccessDenied (FACTS.md §6.4)', async () => {
    await expectGraphError(
      await get(`/v1.0/users/${restricted}/mailFolders/inbox`, richToken),
      403,
      'ErrorAccessDenied',
      'Access to OData is disabled.',
    );
  });

  it('answers 404 ErrorInvalidUser for a user not in the tenant (third-party only)', async () => {
    await expectGraphError(
      await get(`/v1.0/users/ghost-${suffix}@${domain}/mailFolders/inbox`, richToken),
      404,
      'ErrorInvalidUser',
    );
  });

  it("does not show another tenant's mailboxes", async () => {
    await expectGraphError(
      await get('/v1.0/users/reception@contoso.example/mailFolders/inbox', richToken),
      404,
      'ErrorInvalidUser',
    );
  });

  it('answers 404 MailboxNotEnabledForRESTAPI for a user without a mailbox (third-party only)', async () => {
    await expectGraphError(
      await get(`/v1.0/users/${noMailbox}/mailFolders/inbox`, richToken),
      404,
      'MailboxNotEnabledForRESTAPI',
      'REST API is not yet supported for this mailbox.',
    );
  });

  it('answers MailboxNotEnabledForRESTAPI in a tenant without Exchange Online', async () => {
    const t = await control('POST', '/_sim/tenants', { displayName: 'No EXO', hasExchangeOnline: false });
    const id = t.id as string;
    await control('POST', `/_sim/tenants/${id}/consents`, {
      appId: richApp,
      roles: { [GRAPH_APP_ID]: ['Mail.Read'] },
    });
    await control('POST', `/_sim/tenants/${id}/mailboxes`, { address: `x@noexo-${suffix}.example` });
    const token = await graphToken(id, richApp);
    await expectGraphError(
      await get(`/v1.0/users/x@noexo-${suffix}.example/mailFolders/inbox`, token),
      404,
      'MailboxNotEnabledForRESTAPI',
    );
  });

  it('refuses an app without a Mail role: 403 ErrorAccessDenied', async () => {
    await expectGraphError(
      await get(`/v1.0/users/${reachable}/mailFolders/inbox`, bareToken),
      403,
      'ErrorAccessDenied',
    );
  });

  it('refuses /me with an app-only token', async () => {
    await expectGraphError(await get('/v1.0/me/mailFolders/inbox', richToken), 400, 'BadRequest');
  });
});

describe('Graph simulator: unknown paths and faults', () => {
  it('answers 400 for a segment it cannot resolve, after checking the token', async () => {
    await expectGraphError(await get('/v1.0/nothingHere', undefined), 401, 'InvalidAuthenticationToken');
    await expectGraphError(
      await get('/v1.0/nothingHere', richToken),
      400,
      'BadRequest',
      "Resource not found for the segment 'nothingHere'.",
    );
  });

  it('answers an injected 503 as serviceNotAvailable with Retry-After (G-ERR)', async () => {
    const marker = `fault503-${randomUUID()}`;
    await control('POST', '/_sim/faults', {
      target: 'graph',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 7,
      pathContains: marker,
      count: 1,
    });
    const res = await get(`/v1.0/users/${marker}@x.example/mailFolders/inbox`, richToken);
    expect(res.headers.get('retry-after')).toBe('7');
    await expectGraphError(res, 503, 'serviceNotAvailable');
  });

  it('answers an injected throttle as 429 activityLimitReached with Retry-After (G-ERR)', async () => {
    const marker = `fault429-${randomUUID()}`;
    await control('POST', '/_sim/faults', {
      target: 'graph',
      kind: 'throttle',
      retryAfterSeconds: 3,
      pathContains: marker,
      count: 1,
    });
    const res = await get(`/v1.0/users/${marker}@x.example/mailFolders/inbox`, richToken);
    expect(res.headers.get('retry-after')).toBe('3');
    await expectGraphError(res, 429, 'activityLimitReached');
  });
});
