/**
 * The EWS adapter (src/adapters/exchange/ews.ts) against the EWS simulator over real sockets: each probe outcome,
 * unavailability by class (5xx fault, a refused port, the deadline), and no token in any error. Tokens come from the
 * simulated Entra ID through the control surface, after a consent in a tenant of this file's own.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createEwsClient } from '../../src/adapters/exchange/ews.js';
import { EwsUnavailable } from '../../src/adapters/exchange/port.js';

const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const ewsUrl = `${inject('graphUrl')}/EWS/Exchange.asmx`;
const controlUrl = inject('controlUrl');
const app = inject('sandbox').homeApp.clientId;

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

let tenant: string;
let domain: string;
let token: string;
const ews = createEwsClient({ url: ewsUrl });

beforeAll(async () => {
  domain = `ews-adapter-${randomUUID().slice(0, 8)}.example`;
  tenant = (await control('POST', '/_sim/tenants', { displayName: 'EWS Adapter', domains: [domain] }))
    .id as string;
  await control('POST', `/_sim/tenants/${tenant}/consents`, {
    appId: app,
    roles: { [EXCHANGE_APP_ID]: ['full_access_as_app'] },
  });
  for (const address of [`desk@${domain}`, `slow@${domain}`, `busy@${domain}`])
    await control('POST', `/_sim/tenants/${tenant}/mailboxes`, { address });
  await control('POST', `/_sim/tenants/${tenant}/mailboxes`, {
    address: `ceo@${domain}`,
    deniedAppIds: [app],
  });
  token = (
    await control('POST', '/_sim/tokens/app', {
      tenant,
      appId: app,
      resource: 'https://outlook.office365.com',
    })
  ).access_token as string;
});

describe('createEwsClient().probeMailbox', () => {
  it('is blocked (bare 403) while the tenant has not allowed EWS for the app', async () => {
    await control('PUT', `/_sim/tenants/${tenant}/organization-config`, {
      ewsEnabled: null,
      ewsAllowedAppIds: null,
    });
    expect(await ews.probeMailbox(token, `desk@${domain}`)).toEqual({ outcome: 'blocked', status: 403 });
  });

  describe('once EwsEnabled is true and the app is on EwsAllowedAppIDs', () => {
    beforeAll(async () => {
      await control('PUT', `/_sim/tenants/${tenant}/organization-config`, {
        ewsEnabled: true,
        ewsAllowedAppIds: [app],
      });
    });

    it('is allowed for a mailbox in scope (NoError)', async () => {
      expect(await ews.probeMailbox(token, `desk@${domain}`)).toEqual({ outcome: 'allowed' });
    });

    it('has no mailbox access for an unknown address (SOAP Fault) or a scoped-out mailbox (ErrorAccessDenied)', async () => {
      expect(await ews.probeMailbox(token, `nobody@${domain}`)).toEqual({
        outcome: 'noMailboxAccess',
        code: 'ErrorNonExistentMailbox',
      });
      expect(await ews.probeMailbox(token, `ceo@${domain}`)).toEqual({
        outcome: 'noMailboxAccess',
        code: 'ErrorAccessDenied',
      });
    });

    it('is refused with 401 and the x-ms-diagnostics number for a token EWS does not accept', async () => {
      // The token with its signature broken: Exchange's generic 401.
      const broken = `${token.slice(0, -4)}AAAA`;
      const r = await ews.probeMailbox(broken, `desk@${domain}`);
      expect(r).toEqual({ outcome: 'refused', status: 401, code: '2000001' });
    });

    it('throws EwsUnavailable with Retry-After for a 503, without the token in the error', async () => {
      await control('POST', '/_sim/faults', {
        target: 'graph',
        kind: 'status',
        status: 503,
        retryAfterSeconds: 17,
        pathContains: '/EWS/',
        bodyContains: `busy@${domain}`,
        count: 1,
      });
      const err = await ews.probeMailbox(token, `busy@${domain}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EwsUnavailable);
      expect((err as EwsUnavailable).retryAfterSeconds).toBe(17);
      expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toContain(token);
    });

    it('throws EwsUnavailable at its deadline and for a closed port', async () => {
      await control('POST', '/_sim/faults', {
        target: 'graph',
        kind: 'slow',
        delayMs: 2_000,
        pathContains: '/EWS/',
        bodyContains: `slow@${domain}`,
        count: 1,
      });
      const quick = createEwsClient({ url: ewsUrl, timeoutMs: 300 });
      const slow = await quick.probeMailbox(token, `slow@${domain}`).catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(EwsUnavailable);
      expect((slow as Error).message).not.toContain(token);
      const closed = createEwsClient({ url: 'https://localhost:1/EWS/Exchange.asmx', timeoutMs: 2_000 });
      const refused = await closed.probeMailbox(token, `desk@${domain}`).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EwsUnavailable);
      expect((refused as EwsUnavailable).retryAfterSeconds).toBe(5);
    });
  });

  it('refuses an http URL (the probe sends a bearer token)', () => {
    expect(() => createEwsClient({ url: 'http://outlook.office365.com/EWS/Exchange.asmx' })).toThrow(
      TypeError,
    );
  });
});
