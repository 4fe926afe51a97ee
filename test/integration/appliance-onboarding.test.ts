/**
 * The PBX's "Authorize" button end to end (SPEC.md `POST /appliance/onboardings`): the appliance gets a
 * consent link, an admin consents, the appliance polls, learns its tenant and roles, and gets tokens.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';
import { basicAuth } from '../helpers/appliances.js';

let broker: TestBroker;
let staff: string;
beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

async function register(): Promise<{ clientId: string; clientSecret: string }> {
  const res = await fetch(`${broker.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      customerRef: 'SITE-7',
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    }),
  });
  return (await res.json()) as { clientId: string; clientSecret: string };
}
const basic = basicAuth;

describe('appliance onboarding', () => {
  it('binds the appliance to the tenant whose admin consents, and the appliance learns it by polling', async () => {
    const tenantId = await newTenant('Authorize Button GmbH', ['authorize.example']);
    await control('POST', `/_sim/tenants/${tenantId}/users`, {
      userPrincipalName: 'admin@authorize.example',
      directoryRoles: ['62e90394-69f5-4237-9190-012177145e10'],
    });
    const pbx = await register();
    const created = await fetch(`${broker.url}/appliance/onboardings`, {
      method: 'POST',
      headers: { authorization: basic(pbx) },
    });
    expect(created.status).toBe(201);
    const onboarding = (await created.json()) as { id: string; consentUrl: string; expiresAt: string };
    expect(onboarding.consentUrl).toMatch(/^http:\/\/localhost:7071\/connect\/[A-Za-z0-9_-]{22}$/);

    const poll = async () =>
      (
        await fetch(`${broker.url}/appliance/onboardings/${onboarding.id}`, {
          headers: { authorization: basic(pbx) },
        })
      ).json();
    expect(await poll()).toMatchObject({ id: onboarding.id, status: 'pending', tenantId: null });
    const scope = 'https://outlook.office365.com/.default';
    const before = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic(pbx), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    expect(((await before.json()) as { error: string }).error).toBe('invalid_grant');

    const browser = new ConsentBrowser(broker.url);
    const landing = await browser.open(onboarding.consentUrl);
    expect(landing.body).toContain('SITE-7');
    const result = await browser.submit(await browser.open(`${onboarding.consentUrl}/go`), {
      user: 'admin@authorize.example',
      decision: 'approve',
    });
    expect(result.status).toBe(200);
    // The admin confirms the appliance the page names (test/integration/appliance-confirmation.test.ts).
    expect(result.body).toContain(pbx.clientId);
    expect((await browser.submit(result, {})).status).toBe(200);

    expect(await poll()).toMatchObject({
      status: 'consented',
      tenantId,
      grantedRoles: { [scope]: expect.arrayContaining(['IMAP.AccessAsApp']) },
    });
    const after = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic(pbx), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    expect(after.status).toBe(200);
    const appliance = await (
      await fetch(`${broker.url}/api/appliances/${pbx.clientId}`, {
        headers: { authorization: `Bearer ${staff}` },
      })
    ).json();
    expect(appliance).toMatchObject({ tenantId, status: 'active' });
  });

  it("needs the appliance's credential, and shows an onboarding only to its appliance", async () => {
    const a = await register();
    const b = await register();
    const created = (await (
      await fetch(`${broker.url}/appliance/onboardings`, {
        method: 'POST',
        headers: { authorization: basic(a) },
      })
    ).json()) as { id: string };
    const noAuth = await fetch(`${broker.url}/appliance/onboardings`, { method: 'POST' });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const wrong = await fetch(`${broker.url}/appliance/onboardings`, {
      method: 'POST',
      headers: { authorization: basic({ ...a, clientSecret: 'nope' }) },
    });
    expect([wrong.status, wrong.headers.get('www-authenticate')]).toEqual([
      401,
      'Basic realm="consent-broker", charset="UTF-8"',
    ]);
    expect(
      (
        await fetch(`${broker.url}/appliance/onboardings/${created.id}`, {
          headers: { authorization: basic(b) },
        })
      ).status,
    ).toBe(404);
    expect((await fetch(`${broker.url}/appliance/onboardings/${created.id}`)).status).toBe(401);
    expect(
      (
        await fetch(`${broker.url}/appliance/onboardings/not-a-guid`, {
          headers: { authorization: basic(a) },
        })
      ).status,
    ).toBe(404);
  });

  it('throttles failed authentication as the token endpoint does: made-up client ids from one address get 429', async () => {
    const made = () => basic({ clientId: randomUUID(), clientSecret: 'guess' });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const path = i % 2 ? `/appliance/onboardings/${randomUUID()}` : '/appliance/onboardings';
      statuses.push((await from('127.0.0.3', i % 2 ? 'GET' : 'POST', path, made())).status);
    }
    expect(statuses).toEqual(Array<number>(30).fill(401));
    const blocked = await from('127.0.0.3', 'POST', '/appliance/onboardings', made());
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(blocked.body)).toMatchObject({ status: 429, error: 'temporarily_unavailable' });
    // Another address, and its appliance, are not affected.
    const pbx = await register();
    const created = await fetch(`${broker.url}/appliance/onboardings`, {
      method: 'POST',
      headers: { authorization: basic(pbx) },
    });
    expect(created.status).toBe(201);
  });
});

/** A request from another loopback address (Linux routes all of 127.0.0.0/8 to lo). */
function from(
  localAddress: string,
  method: 'GET' | 'POST',
  path: string,
  authorization: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, broker.url),
      { method, localAddress, headers: { authorization } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
