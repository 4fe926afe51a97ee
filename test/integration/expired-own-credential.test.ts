/**
 * A status change by someone not entitled to it (docs/security.md E8), second half: a `Broker.Read` check
 * must not re-activate a tenant whose own app credential ("bring your own app") expired — the daily timer
 * marks it `error` (credential_expired) and the background re-check skips it on purpose; only a new
 * credential (`PUT …/app-credential`, Broker.Admin) restores it. The simulated Entra still accepts the
 * credential (as real Entra may for a while), so the proof would pass.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { flagExpiringCredentials } from '../../src/credentials/expiry.js';
import { recheckConsents } from '../../src/tenants/consent-watch.js';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let reader: string;
beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  reader = await broker.staffToken({ user: inject('sandbox').staff.reader });
});
afterAll(async () => {
  await broker?.close();
});

const api = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function tenantOnOwnApp(name: string, expiresInMs: number) {
  const tenantId = await newTenant(name, [`${name.toLowerCase().replace(/[^a-z]/g, '')}.example`]);
  await consentHomeApp(tenantId);
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: tenantId,
    displayName: `${name} app`,
    requiredRoles: {
      '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'],
      '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
    },
  });
  const secret = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  const put = await api('PUT', `/api/tenants/${tenantId}/app-credential`, admin, {
    clientId: app.appId,
    clientSecret: secret.value,
    expiresOn: new Date(Date.now() + expiresInMs).toISOString(),
  });
  expect(put.status).toBe(200);
  return { tenantId, app, secret };
}

describe('a tenant whose own credential expired', () => {
  it('stays error (credential_expired) through a Broker.Read check and the background re-check', async () => {
    const { tenantId } = await tenantOnOwnApp('Expired Own Credential', 2_000);
    const usable = expect.stringMatching(/^(active|degraded)$/);
    expect((await api('GET', `/api/tenants/${tenantId}`, reader)).body).toMatchObject({ status: usable });
    await new Promise((r) => setTimeout(r, 2_100));
    const b = await createBroker(loadConfig(sandboxSettings()));
    await flagExpiringCredentials({ ...b, homeAppCredential: b.config.homeAppCredential });
    const flagged = (await api('GET', `/api/tenants/${tenantId}`, reader)).body;
    expect(flagged).toMatchObject({ status: 'error', lastError: { code: 'credential_expired' } });

    const check = await api('POST', `/api/tenants/${tenantId}/check`, reader, {});
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ status: 'error' });
    expect((await api('GET', `/api/tenants/${tenantId}`, reader)).body).toMatchObject({
      status: 'error',
      lastError: { code: 'credential_expired' },
    });
    // The background re-check of every tenant (its whole period as the window) leaves it too.
    await recheckConsents(b, new Date(Date.now() - 8 * 86_400_000), 7 * 86_400_000);
    expect((await api('GET', `/api/tenants/${tenantId}`, reader)).body).toMatchObject({ status: 'error' });
  });

  it('is restored by a new credential from Broker.Admin', async () => {
    const { tenantId, app } = await tenantOnOwnApp('Renewed Own Credential', 2_000);
    await new Promise((r) => setTimeout(r, 2_100));
    const b = await createBroker(loadConfig(sandboxSettings()));
    await flagExpiringCredentials({ ...b, homeAppCredential: b.config.homeAppCredential });
    const fresh = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
    const put = await api('PUT', `/api/tenants/${tenantId}/app-credential`, admin, {
      clientId: app.appId,
      clientSecret: fresh.value,
      expiresOn: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    });
    expect(put.status).toBe(200);
    expect((await api('GET', `/api/tenants/${tenantId}`, reader)).body).toMatchObject({
      status: expect.stringMatching(/^(active|degraded)$/),
      lastError: null,
    });
  });
});
