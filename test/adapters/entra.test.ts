/**
 * The MSAL adapter against the Entra simulator over real sockets: real @azure/msal-node, no mocks
 * (STYLE.md). Checks tokens, the mapping of Entra's refusals to EntraRefused and of outages to
 * EntraUnavailable, and the certificate credential.
 * @module
 */
import { describe, expect, inject, it } from 'vitest';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { control } from '../helpers/sim-control.js';
import { createMsalEntraTokens } from '../../src/adapters/entra/msal.js';
import { EntraRefused, EntraUnavailable } from '../../src/adapters/entra/port.js';

const EXO = 'https://outlook.office365.com/.default';

async function newTenant(name: string): Promise<string> {
  return (await control<{ id: string }>('POST', '/_sim/tenants', { displayName: name })).id;
}

function homeAppTokens(secret = inject('sandbox').homeApp.clientSecret) {
  return createMsalEntraTokens({
    authorityHost: inject('entraUrl'),
    clientId: inject('sandbox').homeApp.clientId,
    credential: { kind: 'secret', secret },
  });
}

async function refusal(p: Promise<unknown>): Promise<EntraRefused> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraRefused);
  return err as EntraRefused;
}

describe('createMsalEntraTokens against the Entra simulator', () => {
  it('gets an app-only token for a tenant once consent is granted', async () => {
    const { homeApp } = inject('sandbox');
    const tenantId = await newTenant('Adapter: consented');
    await control('POST', `/_sim/tenants/${tenantId}/consents`, { appId: homeApp.clientId });
    const tenant = await control<{ servicePrincipals: { appId: string; objectId: string }[] }>(
      'GET',
      `/_sim/tenants/${tenantId}`,
    );
    const sp = tenant.servicePrincipals.find((s) => s.appId === homeApp.clientId)!;
    const token = await homeAppTokens().acquireAppToken(tenantId, EXO);
    expect(token.tenantId).toBe(tenantId);
    expect(token.servicePrincipalId).toBe(sp.objectId);
    expect(token.roles).toEqual(
      expect.arrayContaining(['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp', 'full_access_as_app']),
    );
    expect(token.expiresOn.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });

  it('maps a tenant without consent to EntraRefused 7000229 / invalid_client', async () => {
    const tenant = await newTenant('Adapter: no consent');
    const err = await refusal(homeAppTokens().acquireAppToken(tenant, EXO));
    expect({ aadsts: err.aadsts, error: err.error }).toEqual({ aadsts: '7000229', error: 'invalid_client' });
    expect(err.message).toMatch(/^AADSTS7000229: /);
  });

  it('maps an unreplicated consent to EntraRefused 700016', async () => {
    const tenant = await newTenant('Adapter: replicating');
    await control('POST', `/_sim/tenants/${tenant}/consents`, {
      appId: inject('sandbox').homeApp.clientId,
      replicationDelayMs: 60_000,
    });
    const err = await refusal(homeAppTokens().acquireAppToken(tenant, EXO));
    expect({ aadsts: err.aadsts, error: err.error }).toEqual({
      aadsts: '700016',
      error: 'unauthorized_client',
    });
  });

  it('maps a wrong secret to EntraRefused 7000215 and keeps the secret out of the message', async () => {
    const err = await refusal(
      homeAppTokens('wrong-secret-value').acquireAppToken(inject('sandbox').customers.contoso, EXO),
    );
    expect(err.aadsts).toBe('7000215');
    expect(err.message).not.toContain('wrong-secret-value');
  });

  it('maps an unknown tenant to EntraRefused 90002 (from the metadata request)', async () => {
    const err = await refusal(homeAppTokens().acquireAppToken('nosuchtenant.example', EXO));
    expect(err.aadsts).toBe('90002');
  });

  it('maps a 503 to EntraUnavailable, on the metadata request and on the token request', async () => {
    const tenant = await newTenant('Adapter: outage');
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: inject('sandbox').homeApp.clientId });
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: tenant,
      count: 1,
    });
    const tokens = homeAppTokens();
    await expect(tokens.acquireAppToken(tenant, EXO)).rejects.toBeInstanceOf(EntraUnavailable);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 4,
      pathContains: `${tenant}/oauth2`,
      count: 1,
    });
    const err = await tokens.acquireAppToken(tenant, EXO).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraUnavailable);
    expect((err as EntraUnavailable).retryAfterSeconds).toBe(4);
    // Recovers at once: the adapter keeps no local throttle after an outage.
    expect((await tokens.acquireAppToken(tenant, EXO)).tenantId).toBe(tenant);
  });

  it('maps a 429 to EntraUnavailable with the Retry-After seconds', async () => {
    const tenant = await newTenant('Adapter: throttled');
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: inject('sandbox').homeApp.clientId });
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'throttle',
      retryAfterSeconds: 7,
      pathContains: tenant,
      count: 1,
    });
    const err = await homeAppTokens()
      .acquireAppToken(tenant, EXO)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraUnavailable);
    expect((err as EntraUnavailable).retryAfterSeconds).toBe(7);
  });

  it('maps a refused connection to EntraUnavailable', async () => {
    const tokens = createMsalEntraTokens({
      authorityHost: 'https://127.0.0.1:1',
      clientId: inject('sandbox').homeApp.clientId,
      credential: { kind: 'secret', secret: 'x' },
    });
    await expect(tokens.acquireAppToken(inject('sandbox').customers.contoso, EXO)).rejects.toBeInstanceOf(
      EntraUnavailable,
    );
  });

  it('works with a certificate credential (PS256 assertion, x5t#S256)', async () => {
    const { vendorTenantId } = inject('sandbox');
    const app = await control<{ appId: string }>('POST', '/_sim/apps', {
      displayName: 'Adapter cert app',
      homeTenantId: vendorTenantId,
      multitenant: true,
      requiredRoles: { '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'] },
    });
    const cert = await selfSignedCertificate();
    await control('POST', `/_sim/apps/${app.appId}/certificates`, { certificatePem: cert.certificatePem });
    const tenant = await newTenant('Adapter: cert customer');
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: app.appId });
    const tokens = createMsalEntraTokens({
      authorityHost: inject('entraUrl'),
      clientId: app.appId,
      credential: {
        kind: 'certificate',
        privateKeyPem: cert.privateKeyPem,
        thumbprintSha256: cert.thumbprintSha256Hex,
        x5c: cert.certificatePem,
      },
    });
    const token = await tokens.acquireAppToken(tenant, EXO);
    expect(token.roles).toEqual(['IMAP.AccessAsApp']);
  });
});
