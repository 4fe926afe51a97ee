/**
 * A home app certificate kept in Key Vault. A Key Vault certificate's backing secret has the
 * content type of its policy, `application/x-pkcs12` unless the policy says `application/x-pem-file`. The broker
 * reads PEM; PKCS#12 it cannot read with Node's built-ins, so the check the app's start runs in the background
 * (functions/runtime.ts) finds it with a message naming HOME_APP_CREDENTIAL_NAME and the fix, /api/health
 * reports it, and it is never sent to Entra as a client secret (AADSTS7000215 at the first consent).
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import type { SecretStore } from '../../src/adapters/keyvault/port.js';
import { HomeAppCredentialInvalid, loadHomeAppCredential } from '../../src/credentials/home-app.js';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker } from '../integration/broker-host.js';

const EXO = 'https://outlook.office365.com/.default';

function vaultSettings(name: string, overrides: Record<string, string> = {}) {
  const { HOME_APP_CLIENT_SECRET: _, ...settings } = sandboxSettings();
  return loadConfig({ ...settings, HOME_APP_CREDENTIAL_NAME: name, ...overrides });
}

/** DER TLV with a definite length (short or long form). */
function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/**
 * Base64 of a PFX as Key Vault returns it for a certificate: `PFX ::= SEQUENCE { version INTEGER 3, authSafe
 * ContentInfo (pkcs7-data) … }` (RFC 7292 §4), here with random content.
 */
function pfxBase64(): string {
  const pkcs7Data = Buffer.from('06092a864886f70d010701', 'hex');
  const authSafe = der(0x30, Buffer.concat([pkcs7Data, der(0xa0, der(0x04, randomBytes(900)))]));
  return der(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x03]), authSafe])).toString('base64');
}

let secrets: SecretStore;
let tenant: string;
beforeAll(async () => {
  secrets = (await createBroker(loadConfig(sandboxSettings()))).secrets;
  tenant = await newTenant('Certificate Customer');
  await consentHomeApp(tenant);
});

describe('a home app certificate in Key Vault', () => {
  it('finds a PKCS#12 (application/x-pkcs12) credential after start, naming the setting and the fix', async () => {
    const name = `home-pfx-${Date.now()}`;
    const value = pfxBase64();
    await secrets.set(name, value, { contentType: 'application/x-pkcs12' });
    // Creating the broker reads nothing: the start is not held for Key Vault.
    const broker = await createBroker(vaultSettings(name));
    const err = await broker.appCredentialProblem();
    expect(err).toBeInstanceOf(HomeAppCredentialInvalid);
    const message = (err as Error).message;
    expect(message).toContain('HOME_APP_CREDENTIAL_NAME');
    expect(message).toContain(`"${name}"`);
    expect(message).toContain('PKCS#12');
    expect(message).toContain('application/x-pkcs12');
    expect(message).toContain('content type application/x-pem-file');
    expect(message).not.toContain(value.slice(0, 40));
    const health = await broker.health();
    expect(health.status).not.toBe('ok');
    expect(JSON.stringify(health)).toContain('HomeAppCredentialInvalid');

    // A version set while the broker runs (a rotation) is refused the same way on its first use, never sent to
    // Entra as a client secret.
    const later = await loadHomeAppCredential({ kind: 'keyVault', name }, secrets).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(HomeAppCredentialInvalid);
    expect((later as Error).message).toContain('HOME_APP_CREDENTIAL_NAME');
  });

  it('refuses a PFX stored as a plain secret without content type', async () => {
    const name = `home-pfx-untyped-${Date.now()}`;
    await secrets.set(name, pfxBase64());
    const err = await (await createBroker(vaultSettings(name))).appCredentialProblem();
    expect(err).toBeInstanceOf(HomeAppCredentialInvalid);
    expect((err as Error).message).toContain('HOME_APP_CREDENTIAL_NAME');
    expect((err as Error).message).toContain('application/x-pem-file');
  });

  it('finds a PEM-typed secret without its private key', async () => {
    const { certificatePem } = await selfSignedCertificate('CN=No key');
    const name = `home-pem-nokey-${Date.now()}`;
    await secrets.set(name, certificatePem, { contentType: 'application/x-pem-file' });
    const err = await (await createBroker(vaultSettings(name))).appCredentialProblem();
    expect(err).toBeInstanceOf(HomeAppCredentialInvalid);
    expect((err as Error).message).toContain('HOME_APP_CREDENTIAL_NAME');
  });

  it('starts with PEM (application/x-pem-file) and signs in with the certificate of the key, chain or not', async () => {
    const leaf = await selfSignedCertificate('CN=Northwind PBX Connector (PEM)');
    const other = await selfSignedCertificate('CN=Some CA');
    await control('POST', `/_sim/apps/${inject('sandbox').homeApp.clientId}/certificates`, {
      certificatePem: leaf.certificatePem,
    });
    const name = `home-pem-${Date.now()}`;
    // The key, then another certificate before the key's own: the one matching the key is used.
    await secrets.set(name, `${leaf.privateKeyPem}${other.certificatePem}${leaf.certificatePem}`, {
      contentType: 'application/x-pem-file',
    });
    const broker = await createBroker(vaultSettings(name));
    expect(await broker.appCredentialProblem()).toBeUndefined();
    const token = await broker.entra.acquireAppToken(tenant, EXO, { fresh: true });
    expect(decodeJwt(token.accessToken).appidacr).toBe('2');
  });

  it('finds no problem to report when Key Vault cannot be reached, or the secret does not exist yet', async () => {
    const t0 = Date.now();
    const unreachable = await createBroker(
      vaultSettings('home-unreachable', { KEY_VAULT_URL: 'https://127.0.0.1:9' }),
    );
    expect(await unreachable.appCredentialProblem()).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(10_000);
    const missing = await createBroker(vaultSettings(`home-missing-${Date.now()}`));
    expect(await missing.appCredentialProblem()).toBeUndefined();
  });

  it("is named in the log by the app's start, in the background", async () => {
    const name = `home-pfx-start-${Date.now()}`;
    await secrets.set(name, pfxBase64(), { contentType: 'application/x-pkcs12' });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const host = await startTestBroker({ HOME_APP_CLIENT_SECRET: '', HOME_APP_CREDENTIAL_NAME: name });
      await vi.waitFor(
        () =>
          expect(logged).toHaveBeenCalledWith(
            expect.stringContaining(`"${name}" named by HOME_APP_CREDENTIAL_NAME`),
          ),
        { timeout: 10_000 },
      );
      await host.close();
    } finally {
      logged.mockRestore();
    }
  });
});

describe("another bundle's app credential in Key Vault", () => {
  /** A deployment of three bundles whose calendar app's credential is the Key Vault secret `name`. */
  const bundleSettings = (name: string) => {
    const settings = sandboxSettings();
    return loadConfig({
      ...settings,
      BROKER_PROFILES_FILE: 'docs/examples/bundles.profiles.json',
      BUNDLE_CALENDAR_CLIENT_ID: randomUUID(),
      BUNDLE_CALENDAR_CREDENTIAL_NAME: name,
      BUNDLE_EWS_CLIENT_ID: randomUUID(),
      BUNDLE_EWS_CLIENT_SECRET: 'ews-app-secret',
    });
  };

  it('is checked after start as the home app credential is, naming its own setting', async () => {
    const name = `calendar-pfx-${Date.now()}`;
    await secrets.set(name, pfxBase64(), { contentType: 'application/x-pkcs12' });
    const err = await (await createBroker(bundleSettings(name))).appCredentialProblem();
    expect(err).toBeInstanceOf(HomeAppCredentialInvalid);
    expect(err?.message).toContain(`"${name}" named by BUNDLE_CALENDAR_CREDENTIAL_NAME`);
    expect(err?.message).not.toContain('HOME_APP_CREDENTIAL_NAME');
  });

  it('is looked for by the keyVault health probe: a missing one is named as a bundle app credential', async () => {
    const missing = await (await createBroker(bundleSettings(`calendar-missing-${Date.now()}`))).health();
    expect(missing.dependencies.keyVault).toMatchObject({
      status: 'down',
      reason: 'BundleAppCredentialMissing',
    });

    const name = `calendar-secret-${Date.now()}`;
    await secrets.set(name, 'calendar-app-client-secret-value');
    const present = await (await createBroker(bundleSettings(name))).health();
    expect(present.dependencies.keyVault).toMatchObject({ status: 'up' });
  });
});
