/**
 * The broker serving one national cloud (BROKER_CLOUD), end to end against simulators that behave as that cloud:
 * their Entra ID writes the cloud's issuers into every token and knows only that cloud's resource URIs, their
 * Graph, EWS and Key Vault accept only that cloud's audiences (simulators/common/clouds.ts). Nothing of the public
 * cloud can be on the path, or a step fails: the consent flow (admin consent, the admin's sign-in, the proof), a
 * token request, a live check and the Exchange script. One test file per cloud: the broker of functions/runtime.ts
 * is one per worker.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../local/azurite.js';
import { cloudNamed, type CloudName } from '../../src/cloud/clouds.js';
import { loadOrCreateSandboxTls } from '../../simulators/common/ca.js';
import { SIM_CLOUDS } from '../../simulators/common/clouds.js';
import { World } from '../../simulators/common/world.js';
import { startSimulators, type RunningSimulators } from '../../simulators/index.js';
import { seedSandbox, type SandboxIdentities } from '../../simulators/sandbox.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { ConsentBrowser } from './consent-browser.js';
import { GLOBAL_ADMIN } from './sim-control.js';

const PUBLIC_EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';

export function cloudSuite(name: Exclude<CloudName, 'AzureCloud'>): void {
  const cloud = cloudNamed(name);
  const exchangeScope = cloud.resourceScopes('exchange').scope;
  let sims: RunningSimulators;
  let azurite: RunningAzurite;
  let dataDir: string;
  let ids: SandboxIdentities;
  let broker: TestBroker;
  let staff: string;

  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${sims.urls.control}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${broker.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  beforeAll(async () => {
    // The test run's CA, which this worker trusts already (test/global-setup.ts).
    const tls = await loadOrCreateSandboxTls(inject('sandboxTlsDir'));
    sims = await startSimulators(tls, {}, new World(Date.now, SIM_CLOUDS[name]));
    ids = seedSandbox(sims.world, { publicUrl: 'http://localhost:7071' });
    // A deployment of its own: its vault holds no broker key, and the broker refuses to make one while the
    // tables hold appliances (src/keys/broker-keys.ts), as those of the shared Azurite do.
    dataDir = await mkdtemp(join(tmpdir(), `broker-${name}-`));
    azurite = await startAzurite({ location: dataDir });
    broker = await startTestBroker({
      BROKER_CLOUD: name,
      HOME_APP_CLIENT_ID: ids.homeApp.clientId,
      HOME_APP_CLIENT_SECRET: ids.homeApp.clientSecret,
      ENTRA_AUTHORITY_HOST: sims.urls.entra,
      GRAPH_ENDPOINT: sims.urls.graph,
      EXCHANGE_EWS_URL: `${sims.urls.graph}/EWS/Exchange.asmx`,
      KEY_VAULT_URL: sims.urls.keyVault,
      BROKER_STORAGE: azurite.connectionString,
      VENDOR_TENANT_ID: ids.vendorTenantId,
      AZURE_TENANT_ID: ids.brokerIdentity.tenantId,
      AZURE_CLIENT_ID: ids.brokerIdentity.clientId,
      AZURE_CLIENT_SECRET: ids.brokerIdentity.clientSecret,
      AZURE_AUTHORITY_HOST: sims.urls.entra,
    });
    staff = (await control<{ access_token: string }>('POST', '/_sim/staff-token', { user: ids.staff.admin }))
      .access_token;
  });
  afterAll(async () => {
    await broker?.close();
    await Promise.all([sims?.close(), azurite?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  describe(`the broker with BROKER_CLOUD=${name}`, () => {
    let tenantId: string;
    let domain: string;

    it(`takes a consent through ${name}'s Entra ID and proves it with ${name}'s tokens`, async () => {
      domain = `${name.toLowerCase()}-customer.example`;
      tenantId = (
        await control<{ id: string }>('POST', '/_sim/tenants', {
          displayName: `${name} Customer`,
          domains: [domain],
        })
      ).id;
      await control('POST', `/_sim/tenants/${tenantId}/users`, {
        userPrincipalName: `admin@${domain}`,
        directoryRoles: [GLOBAL_ADMIN],
      });
      await control('POST', `/_sim/tenants/${tenantId}/mailboxes`, { address: `queue@${domain}` });
      const res = await api('/api/onboardings', {
        body: { customerRef: `REF-${name}`, profiles: ['exchange-imap', 'graph-mail'] },
      });
      expect(res.status).toBe(201);
      const { consentUrl } = (await res.json()) as { consentUrl: string };
      const browser = new ConsentBrowser(broker.url);
      const go = await browser.open(`${consentUrl}/go`);
      // The admin is sent to the cloud's admin-consent endpoint (here its stand-in), asking for its resource.
      expect(go.url).toContain(`scope=${encodeURIComponent(cloud.resourceScopes('exchange').scope)}`);
      const page = await browser.submit(go, { user: `admin@${domain}`, decision: 'approve' });
      expect(page.status, page.body).toBe(200);

      const tenant = await (await api(`/api/tenants/${tenantId}`)).json();
      expect(tenant).toMatchObject({ status: 'active' });
      expect(Object.keys((tenant as { grantedRoles: object }).grantedRoles).sort()).toEqual(
        [exchangeScope, cloud.resourceScopes('graph').scope].sort(),
      );
    });

    it(`vends a token for ${name}'s Exchange Online, and refuses the public cloud's scope`, async () => {
      const reg = await api('/api/appliances', {
        body: {
          customerRef: `REF-${name}`,
          tenantId,
          profiles: ['exchange-imap'],
          auth: { method: 'client_secret' },
        },
      });
      expect(reg.status).toBe(201);
      const { clientId, clientSecret } = (await reg.json()) as { clientId: string; clientSecret: string };
      const ask = (scope: string) =>
        fetch(`${broker.url}/oauth2/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
        });
      const res = await ask(exchangeScope);
      const body = (await res.json()) as { access_token: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      const claims = decodeJwt(body.access_token);
      expect(claims).toMatchObject({
        aud: cloud.exchangeResource,
        iss: cloud.v1Issuer(tenantId),
        tid: tenantId,
      });
      expect(claims.roles).toContain('IMAP.AccessAsApp');
      const publicScope = await ask(PUBLIC_EXCHANGE_SCOPE);
      expect(publicScope.status).toBe(400);
      expect(await publicScope.json()).toMatchObject({ error: 'invalid_scope' });
    });

    it(`runs a live check through ${name}'s Graph, and writes the script for ${name}'s Exchange`, async () => {
      const res = await api(`/api/tenants/${tenantId}/check`, { body: { mailboxes: [`queue@${domain}`] } });
      expect(res.status).toBe(200);
      const report = (await res.json()) as { checks: { name: string; ok: boolean | null; detail: string }[] };
      const by = (n: string) => report.checks.find((c) => c.name === n);
      for (const n of [
        'token:exchange',
        'token:graph',
        'roles:exchange-imap',
        'roles:graph-mail',
        'organization',
      ])
        expect(by(n), JSON.stringify(report.checks)).toMatchObject({ ok: true });
      expect(by(`mailbox:queue@${domain}`)?.detail).toMatch(/^Reachable/);

      const script = await api(`/api/tenants/${tenantId}/exchange-setup.ps1`);
      expect(script.status).toBe(200);
      expect(await script.text()).toContain(
        `Connect-ExchangeOnline -UserPrincipalName $AdminUpn -ExchangeEnvironmentName ${cloud.exchangeEnvironmentName}`,
      );
    });

    it(`stands in for ${name} faithfully: its Entra ID does not know the public cloud's resources`, async () => {
      const res = await fetch(`${sims.urls.entra}/${tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: ids.homeApp.clientId,
          client_secret: ids.homeApp.clientSecret,
          scope: PUBLIC_EXCHANGE_SCOPE,
        }).toString(),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(
        /^AADSTS500011:/,
      );
    });
  });
}
