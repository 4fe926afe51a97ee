/**
 * The Exchange Web Services simulator on the wire (simulators/graph/ews.ts): raw SOAP over HTTPS against the running
 * simulator, with a tenant, consents, mailboxes and organization config of this file's own made through the control
 * surface. The table in simulators/graph/ews.ts names the source of each answer.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';

const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const ewsUrl = `${inject('graphUrl')}/EWS/Exchange.asmx`;
const controlUrl = inject('controlUrl');
const sandbox = inject('sandbox');
const app = sandbox.homeApp.clientId;
/** Consented here with IMAP only: no full_access_as_app. */
const imapOnlyApp = sandbox.brokerIdentity.clientId;

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

async function token(appId: string, resource = 'https://outlook.office365.com'): Promise<string> {
  return (await control('POST', '/_sim/tokens/app', { tenant, appId, resource })).access_token as string;
}

function getFolder(mailbox: string, opts: { impersonate?: boolean; folder?: string } = {}): string {
  const impersonation =
    opts.impersonate === false
      ? ''
      : `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>${mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2016" />${impersonation}</soap:Header>
  <soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
    <m:FolderIds><t:DistinguishedFolderId Id="${opts.folder ?? 'inbox'}"/></m:FolderIds></m:GetFolder></soap:Body>
</soap:Envelope>`;
}

async function post(
  bearer: string | undefined,
  mailbox: string,
  opts: { anchor?: boolean; impersonate?: boolean; folder?: string } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(ewsUrl, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(opts.anchor === false ? {} : { 'x-anchormailbox': mailbox }),
    },
    body: getFolder(mailbox, opts),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const orgConfig = (body: unknown) => control('PUT', `/_sim/tenants/${tenant}/organization-config`, body);

let tenant: string;
let domain: string;

beforeAll(async () => {
  domain = `ews-sim-${randomUUID().slice(0, 8)}.example`;
  tenant = (await control('POST', '/_sim/tenants', { displayName: 'EWS Sim', domains: [domain] }))
    .id as string;
  await control('POST', `/_sim/tenants/${tenant}/consents`, {
    appId: app,
    roles: { [EXCHANGE_APP_ID]: ['full_access_as_app'], [GRAPH_APP_ID]: ['Organization.Read.All'] },
  });
  await control('POST', `/_sim/tenants/${tenant}/consents`, {
    appId: imapOnlyApp,
    roles: { [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'] },
  });
  await control('POST', `/_sim/tenants/${tenant}/mailboxes`, { address: `desk@${domain}` });
  await control('POST', `/_sim/tenants/${tenant}/mailboxes`, {
    address: `ceo@${domain}`,
    deniedAppIds: [app],
  });
});

describe('POST /EWS/Exchange.asmx (simulated Exchange Online)', () => {
  it('refuses a missing token with 401 and a Bearer challenge, and a Graph token with 403 (msal-objc#518)', async () => {
    const none = await post(undefined, `desk@${domain}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(
      /^Bearer client_id="00000002-0000-0ff1-ce00-000000000000"/,
    );
    expect(none.text).toBe('');
    const graph = await post(await token(app, 'https://graph.microsoft.com'), `desk@${domain}`);
    expect(graph).toMatchObject({ status: 403, text: '' });
  });

  it('refuses a token without full_access_as_app with 401 and x-ms-diagnostics 2000008 (otris/ews-cpp#148)', async () => {
    const r = await post(await token(imapOnlyApp), `desk@${domain}`);
    expect(r.status).toBe(401);
    expect(r.headers.get('x-ms-diagnostics')).toMatch(/^2000008;reason="The token contains no permissions/);
  });

  it('blocks EWS with a bare 403 while EwsEnabled is not configured (null: blocked since 1 Oct 2026)', async () => {
    expect(await orgConfig({ ewsEnabled: null, ewsAllowedAppIds: null })).toEqual({
      ewsEnabled: null,
      ewsAllowedAppIds: null,
    });
    const r = await post(await token(app), `desk@${domain}`);
    expect(r).toMatchObject({ status: 403, text: '' });
  });

  it('blocks with EwsEnabled false whatever the list, and with true unless the app is on EwsAllowedAppIDs', async () => {
    const t = await token(app);
    await orgConfig({ ewsEnabled: false, ewsAllowedAppIds: [app] });
    expect((await post(t, `desk@${domain}`)).status).toBe(403);
    await orgConfig({ ewsEnabled: true, ewsAllowedAppIds: [] });
    expect((await post(t, `desk@${domain}`)).status).toBe(403);
    await orgConfig({ ewsEnabled: true, ewsAllowedAppIds: [randomUUID()] });
    expect((await post(t, `desk@${domain}`)).status).toBe(403);
  });

  describe('with EwsEnabled true and the app allow-listed', () => {
    beforeAll(async () => {
      // Every spelling of the resource in the list's case, as admins paste it.
      await orgConfig({ ewsEnabled: true, ewsAllowedAppIds: [randomUUID(), app.toUpperCase()] });
    });

    it('answers GetFolder of the inbox with Success / NoError and the folder (getfolder-operation.md)', async () => {
      for (const resource of [
        'https://outlook.office365.com',
        'https://outlook.office.com',
        EXCHANGE_APP_ID,
      ]) {
        const r = await post(await token(app, resource), `desk@${domain}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('text/xml; charset=utf-8');
        expect(r.text).toMatch(
          /<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError<\/m:ResponseCode>/,
        );
        expect(r.text).toContain('<t:DisplayName>Inbox</t:DisplayName>');
      }
    });

    it('answers a SOAP Fault ErrorNonExistentMailbox (HTTP 500) for an address without a mailbox', async () => {
      const r = await post(await token(app), `nobody@${domain}`);
      expect(r.status).toBe(500);
      expect(r.text).toContain(
        '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorNonExistentMailbox</faultcode>',
      );
      expect(r.text).toContain('>ErrorNonExistentMailbox</e:ResponseCode>');
    });

    it('answers ErrorAccessDenied for a mailbox an application access policy leaves out (UNVERIFIED wire answer)', async () => {
      const r = await post(await token(app), `ceo@${domain}`);
      expect(r.status).toBe(200);
      expect(r.text).toMatch(
        /ResponseClass="Error"><m:MessageText>Access is denied\. Check credentials and try again\.<\/m:MessageText><m:ResponseCode>ErrorAccessDenied</,
      );
    });

    it('requires the ExchangeImpersonation header and X-AnchorMailbox for app-only tokens', async () => {
      const t = await token(app);
      const noImpersonation = await post(t, `desk@${domain}`, { impersonate: false });
      expect(noImpersonation.status).toBe(500);
      expect(noImpersonation.text).toContain('a:ErrorInvalidExchangeImpersonationHeaderData');
      const noAnchor = await post(t, `desk@${domain}`, { anchor: false });
      expect(noAnchor.status).toBe(500);
      expect(noAnchor.text).toContain('a:ErrorInvalidRequest');
    });
  });

  it('refuses bad organization-config input on the control surface', async () => {
    const res = await fetch(`${controlUrl}/_sim/tenants/${tenant}/organization-config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ewsEnabled: 'yes' }),
    });
    expect(res.status).toBe(400);
  });
});
