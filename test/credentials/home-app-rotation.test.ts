/**
 * A rotated home app credential is picked up without a restart (docs/operations.md "Rotate the home app
 * credential"): at most CREDENTIAL_REFRESH_SECONDS after the new version is in Key Vault, and at once when
 * Entra refuses the old one.
 * @module
 */
import { describe, expect, inject, it } from 'vitest';
import { createMsalEntraTokens } from '../../src/adapters/entra/msal.js';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { createHomeAppEntraTokens, CREDENTIAL_REFRESH_SECONDS } from '../../src/credentials/home-app.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings } from '../integration/broker-host.js';

const EXO = 'https://outlook.office365.com/.default';

async function rotatingApp() {
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    homeTenantId: inject('sandbox').vendorTenantId,
    displayName: 'Rotation test app',
    multitenant: true,
    requiredRoles: { '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'] },
  });
  const first = await control<{ keyId: string; value: string }>(
    'POST',
    `/_sim/apps/${app.appId}/secrets`,
    {},
  );
  const tenant = await newTenant('Rotation Customer');
  await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: app.appId });
  return { appId: app.appId, first, tenant };
}

describe('home app credential rotation', () => {
  it('uses a new Key Vault version after the refresh interval, behind the requests', async () => {
    const { appId, first, tenant } = await rotatingApp();
    const { secrets } = await createBroker(loadConfig(sandboxSettings()));
    const name = `rotation-${Date.now()}`;
    await secrets.set(name, first.value);
    let t = Date.now();
    const entra = createHomeAppEntraTokens({
      authorityHost: inject('entraUrl'),
      clientId: appId,
      source: { kind: 'keyVault', name },
      secrets,
      create: createMsalEntraTokens,
      now: () => t,
    });
    expect((await entra.acquireAppToken(tenant, EXO, { fresh: true })).roles).toEqual(['IMAP.AccessAsApp']);

    // The operator rotates: a new secret on the app registration and in Key Vault; the old one is removed.
    const second = await control<{ value: string }>('POST', `/_sim/apps/${appId}/secrets`, {});
    await secrets.set(name, second.value);
    await control('DELETE', `/_sim/apps/${appId}/secrets/${first.keyId}`);

    t += (CREDENTIAL_REFRESH_SECONDS + 1) * 1000;
    // This request meets the old client and triggers the read; Entra's refusal of the old secret
    // (AADSTS7000215) makes it read Key Vault at once and retry with the new one.
    expect((await entra.acquireAppToken(tenant, EXO, { fresh: true })).roles).toEqual(['IMAP.AccessAsApp']);
    expect((await entra.acquireAppToken(tenant, EXO, { fresh: true })).roles).toEqual(['IMAP.AccessAsApp']);
  });

  it('picks up a rotation at once when Entra refuses the old secret, even before the interval', async () => {
    const { appId, first, tenant } = await rotatingApp();
    const { secrets } = await createBroker(loadConfig(sandboxSettings()));
    const name = `rotation-now-${Date.now()}`;
    await secrets.set(name, first.value);
    const entra = createHomeAppEntraTokens({
      authorityHost: inject('entraUrl'),
      clientId: appId,
      source: { kind: 'keyVault', name },
      secrets,
      create: createMsalEntraTokens,
    });
    await entra.acquireAppToken(tenant, EXO, { fresh: true });
    const second = await control<{ value: string }>('POST', `/_sim/apps/${appId}/secrets`, {});
    await secrets.set(name, second.value);
    await control('DELETE', `/_sim/apps/${appId}/secrets/${first.keyId}`);
    expect((await entra.acquireAppToken(tenant, EXO, { fresh: true })).roles).toEqual(['IMAP.AccessAsApp']);
  });
});
