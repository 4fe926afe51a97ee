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

/** A new user of the tenant with an active grant of `profiles`; its id and the appliance's handle. */
export async function activeGrantWithHandle(
  f: GrantFixture,
  user: string,
  profiles: readonly string[],
): Promise<{ id: string; handle: string }> {
  await control('POST', `/_sim/tenants/${f.tenantId}/users`, { userPrincipalName: user });
  const made = await fetch(`${f.brokerUrl}/api/tenants/${f.tenantId}/mailbox-grants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ applianceId: f.applianceId, profiles, mailbox: user }),
  });
  expect(made.status).toBe(201);
  const { id, consentUrl } = (await made.json()) as { id: string; consentUrl: string };
  const browser = new ConsentBrowser(f.brokerUrl);
  expect((await browser.submit(await browser.open(`${consentUrl}/go`), { login: user })).status).toBe(200);
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
