/**
 * An active mailbox grant made as a user would make it: support asks for it, the user signs in through the
 * broker at the simulated Microsoft, and the appliance reads its handle (src/grants/, src/http/appliance-grants.ts).
 * @module
 */
import { expect } from 'vitest';
import { ConsentBrowser } from './consent-browser.js';
import { control } from './sim-control.js';

export interface GrantFixture {
  readonly brokerUrl: string;
  /** A Broker.Admin staff token. */
  readonly admin: string;
  readonly tenantId: string;
  readonly applianceId: string;
  readonly applianceSecret: string;
}

export const basicAuth = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A Broker.Admin's appliance in `tenantId` allowed `profiles`, as the grant tests need it. */
export async function grantFixture(
  brokerUrl: string,
  admin: string,
  tenantId: string,
  profiles: readonly string[],
  customerRef = 'PBX-GRANTS',
): Promise<GrantFixture> {
  const res = await fetch(`${brokerUrl}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef, tenantId, profiles, auth: { method: 'client_secret' } }),
  });
  expect(res.status).toBe(201);
  const appliance = (await res.json()) as { clientId: string; clientSecret: string };
  return {
    brokerUrl,
    admin,
    tenantId,
    applianceId: appliance.clientId,
    applianceSecret: appliance.clientSecret,
  };
}

/** An active grant of `profiles` for `mailbox`, signed in to by `login` (an existing user); its id. */
export async function activeGrant(
  f: GrantFixture,
  login: string,
  profiles: readonly string[],
  mailbox = login,
): Promise<string> {
  const made = await fetch(`${f.brokerUrl}/api/tenants/${f.tenantId}/mailbox-grants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ applianceId: f.applianceId, profiles, mailbox }),
  });
  expect(made.status).toBe(201);
  const { id, consentUrl } = (await made.json()) as { id: string; consentUrl: string };
  const browser = new ConsentBrowser(f.brokerUrl);
  const done = await browser.submit(await browser.open(`${consentUrl}/go`), { login });
  expect(done.status, done.body.slice(0, 300)).toBe(200);
  return id;
}

/** A new user of the tenant with an active grant of `profiles`; its id and the appliance's handle. */
export async function activeGrantWithHandle(
  f: GrantFixture,
  user: string,
  profiles: readonly string[],
): Promise<{ id: string; handle: string }> {
  await control('POST', `/_sim/tenants/${f.tenantId}/users`, { userPrincipalName: user });
  const id = await activeGrant(f, user, profiles);
  const read = await fetch(`${f.brokerUrl}/appliance/mailbox-grants/${id}`, {
    headers: { authorization: basicAuth(f.applianceId, f.applianceSecret) },
  });
  const handle = ((await read.json()) as { refresh_token?: string }).refresh_token;
  expect(handle).toMatch(/^mbh_/);
  return { id, handle: handle! };
}

/** The appliance's refresh with a grant's handle at the token endpoint. */
export async function refreshWithHandle(
  f: GrantFixture,
  handle: string,
  scope?: string,
): Promise<{ status: number; headers: Headers; body: Record<string, string> }> {
  const res = await fetch(`${f.brokerUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(f.applianceId, f.applianceSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: handle,
      ...(scope ? { scope } : {}),
    }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}
