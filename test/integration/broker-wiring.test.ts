/**
 * The broker as createBroker wires it, against the stand-ins: the home app's credential read from Key Vault
 * (a client secret, or a certificate as PEM), app-only tokens through MSAL, Graph read with them, and the
 * health of every dependency.
 * @module
 */
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createBroker, type Broker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { HomeAppCredentialInvalid } from '../../src/credentials/home-app.js';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings } from './broker-host.js';

const EXO = 'https://outlook.office365.com/.default';
const withSecret = () => createBroker(loadConfig(sandboxSettings()));
async function withVaultCredential(name: string): Promise<Broker> {
  const { HOME_APP_CLIENT_SECRET: _, ...settings } = sandboxSettings();
  return createBroker(loadConfig({ ...settings, HOME_APP_CREDENTIAL_NAME: name }));
}

let tenant: string;
beforeAll(async () => {
  tenant = await newTenant('Wiring Ltd', ['wiring.example']);
  await consentHomeApp(tenant);
});

describe('the wired broker', () => {
  it('gets an app-only token with the client secret read from Key Vault, and reads Graph with it', async () => {
    const seeding = await withSecret();
    const name = `home-secret-${Date.now()}`;
    await seeding.secrets.set(name, inject('sandbox').homeApp.clientSecret);
    const broker = await withVaultCredential(name);
    const token = await broker.entra.acquireAppToken(tenant, EXO);
    expect(token.roles).toContain('IMAP.AccessAsApp');
    expect(decodeJwt(token.accessToken).appidacr).toBe('1');
    const org = await broker.graph.organization(tenant);
    expect(org.displayName).toBe('Wiring Ltd');
    expect(org.verifiedDomains.map((d) => d.name)).toContain('wiring.example');
  });

  it('uses a certificate kept in Key Vault as PEM with its private key (MSAL certificate credential)', async () => {
    const { certificatePem, privateKeyPem } = await selfSignedCertificate('CN=Northwind PBX Connector');
    await control('POST', `/_sim/apps/${inject('sandbox').homeApp.clientId}/certificates`, {
      certificatePem,
    });
    const name = `home-cert-${Date.now()}`;
    await (
      await withSecret()
    ).secrets.set(name, `${privateKeyPem}${certificatePem}`, { contentType: 'application/x-pem-file' });
    const token = await (await withVaultCredential(name)).entra.acquireAppToken(tenant, EXO);
    expect(decodeJwt(token.accessToken).appidacr).toBe('2');
  });

  it('names a missing Key Vault credential without reaching Entra, and tries again on the next call', async () => {
    const broker = await withVaultCredential(`missing-${Date.now()}`);
    const err = await broker.entra.acquireAppToken(tenant, EXO).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeAppCredentialInvalid);
    expect((err as Error).message).toContain('HOME_APP_CREDENTIAL_NAME');
    const health = await broker.health();
    expect(health.status).toBe('degraded');
    expect(health.dependencies.keyVault).toMatchObject({
      status: 'down',
      reason: 'HomeAppCredentialMissing',
    });
  });

  it('reports every dependency up when all answer', async () => {
    const health = await (await withSecret()).health();
    expect(health).toMatchObject({
      status: 'ok',
      dependencies: { tableStorage: { status: 'up' }, keyVault: { status: 'up' }, entra: { status: 'up' } },
    });
  });

  it('reports Entra ID down when its keys cannot be fetched', async () => {
    const broker = await createBroker(
      loadConfig({ ...sandboxSettings(), ENTRA_AUTHORITY_HOST: 'https://127.0.0.1:9' }),
    );
    expect((await broker.health()).dependencies.entra).toMatchObject({ status: 'down' });
  });
});
