/**
 * The Entra simulator's device authorization grant (simulators/entra/device-code.ts), as Microsoft's device-code
 * page documents it, and the broker's own device-code endpoint held to the same shape (src/vending/device-code.ts):
 * the same fields, the same polling errors, the same message wording.
 * @module
 */
import { decodeJwt } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { control, newTenant } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const IMAP = 'https://outlook.office365.com/IMAP.AccessAsUser.All';
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function form(url: string, fields: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A public client app with IMAP.AccessAsUser.All, admin-consented in a new tenant with one user. */
async function setup() {
  const tenant = await newTenant('Device Sim Ltd', ['devicesim.example']);
  await control('POST', `/_sim/tenants/${tenant}/users`, { userPrincipalName: 'pbx@devicesim.example' });
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Device firmware',
    homeTenantId: tenant,
    publicClient: true,
    requiredScopes: { '00000003-0000-0000-c000-000000000000': ['IMAP.AccessAsUser.All', 'offline_access'] },
  });
  await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: app.appId });
  return { tenant, appId: app.appId };
}

const login = (fields: Record<string, string>) =>
  fetch(`${entra()}/devicelogin`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

describe('Entra simulator: device-code flow', () => {
  it('answers the codes, pending until the user signs in, then the user’s tokens once', async () => {
    const { tenant, appId } = await setup();
    const started = await form(`${entra()}/${tenant}/oauth2/v2.0/devicecode`, {
      client_id: appId,
      scope: `${IMAP} offline_access`,
    });
    expect(started.status).toBe(200);
    expect(Object.keys(started.body).sort()).toEqual([
      'device_code',
      'expires_in',
      'interval',
      'message',
      'user_code',
      'verification_uri',
    ]);
    expect(started.body).toMatchObject({
      expires_in: 900,
      interval: 5,
      verification_uri: `${entra()}/devicelogin`,
    });
    expect(started.body.message).toBe(
      `To sign in, use a web browser to open the page ${entra()}/devicelogin and enter the code ${String(started.body.user_code)} to authenticate.`,
    );
    const poll = () =>
      form(`${entra()}/${tenant}/oauth2/v2.0/token`, {
        grant_type: GRANT,
        client_id: appId,
        device_code: String(started.body.device_code),
      });
    const pending = await poll();
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({ error: 'authorization_pending', error_codes: [70016] });

    expect(
      (await login({ otc: 'WRONG123', login: 'pbx@devicesim.example', decision: 'approve' })).status,
    ).toBe(400);
    const signedIn = await login({
      otc: String(started.body.user_code).toLowerCase(),
      login: 'pbx@devicesim.example',
      decision: 'approve',
    });
    expect(signedIn.status).toBe(200);
    const granted = await poll();
    expect(granted.status).toBe(200);
    expect(decodeJwt(String(granted.body.access_token))).toMatchObject({
      scp: 'IMAP.AccessAsUser.All',
      upn: 'pbx@devicesim.example',
    });
    expect(typeof granted.body.refresh_token).toBe('string');
    expect((await poll()).body.error).toBe('bad_verification_code');
  });

  it('answers authorization_declined after a decline, and requires a confidential app to authenticate', async () => {
    const { tenant, appId } = await setup();
    const started = await form(`${entra()}/${tenant}/oauth2/v2.0/devicecode`, {
      client_id: appId,
      scope: IMAP,
    });
    await login({ otc: String(started.body.user_code), decision: 'decline' });
    const declined = await form(`${entra()}/${tenant}/oauth2/v2.0/token`, {
      grant_type: 'device_code',
      client_id: appId,
      device_code: String(started.body.device_code),
    });
    expect(declined.body.error).toBe('authorization_declined');

    const confidential = await control<{ appId: string }>('POST', '/_sim/apps', {
      displayName: 'Confidential',
      homeTenantId: tenant,
      requiredScopes: { '00000003-0000-0000-c000-000000000000': ['IMAP.AccessAsUser.All'] },
    });
    const c = await form(`${entra()}/${tenant}/oauth2/v2.0/devicecode`, {
      client_id: confidential.appId,
      scope: IMAP,
    });
    const unauthenticated = await form(`${entra()}/${tenant}/oauth2/v2.0/token`, {
      grant_type: GRANT,
      client_id: confidential.appId,
      device_code: String(c.body.device_code),
    });
    expect(unauthenticated).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_codes: [7000218] },
    });
  });

  it('refuses a request without scope or client_id (AADSTS900144)', async () => {
    const { tenant, appId } = await setup();
    const noScope = await form(`${entra()}/${tenant}/oauth2/v2.0/devicecode`, { client_id: appId });
    expect(noScope.body).toMatchObject({ error: 'invalid_request', error_codes: [900144] });
    const noClient = await form(`${entra()}/${tenant}/oauth2/v2.0/devicecode`, { scope: IMAP });
    expect(noClient.body).toMatchObject({ error: 'invalid_request', error_codes: [900144] });
  });
});
