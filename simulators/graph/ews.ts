/**
 * Exchange Web Services simulator: `POST /EWS/Exchange.asmx` as https://outlook.office365.com serves it, with the
 * one operation the broker's live check makes, an impersonated app-only `GetFolder` of a distinguished folder
 * (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth,
 * https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/impersonation-and-ews-in-exchange,
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation). It is
 * served from the Graph simulator's server, which stands for Microsoft's cloud endpoints, and accepts the same
 * tokens the simulated Entra ID signs. In the order a request meets them:
 *
 * | case | answer | source |
 * |---|---|---|
 * | no or malformed bearer token, bad signature, expired | 401, `WWW-Authenticate: Bearer …`, no body | header wording **UNVERIFIED** (recalled from live answers) |
 * | token for another resource (e.g. Graph) | 403, no body | field report, https://github.com/AzureAD/microsoft-authentication-library-for-objc/issues/518 |
 * | token without `full_access_as_app` | 401, `x-ms-diagnostics: 2000008;reason="The token contains no permissions, or permissions can not be understood."` | field report, https://github.com/otris/ews-cpp/issues/148 |
 * | EWS blocked by the tenant's organization config ({@link ewsBlocked}) | 403, no SOAP body | **UNVERIFIED**: research-17 §1.3 field reports say "HTTP 403 Forbidden" with nothing to parse |
 * | no `ExchangeImpersonation` header (app-only tokens must impersonate) | 500 SOAP Fault `ErrorInvalidExchangeImpersonationHeaderData` | docs: "you will also need to explicitly impersonate a mailbox"; the fault wording is third-party only |
 * | no `X-AnchorMailbox` header | 500 SOAP Fault `ErrorInvalidRequest` | docs: "you must always use the X-AnchorMailbox request header"; the real answer is **UNVERIFIED** |
 * | impersonated address has no mailbox in the tenant | 500 SOAP Fault `ErrorNonExistentMailbox` "The SMTP address has no mailbox associated with it." | responsecode.md; SOAP Fault with 500 as in https://github.com/OfficeDev/ews-managed-api/issues/223 |
 * | mailbox outside the app's application access policy / RBAC scope | 200, GetFolderResponseMessage `Error` / `ErrorAccessDenied` | **UNVERIFIED** (research-17 §1.3: EWS honours access policies, the wire answer is not documented; a Microsoft engineer also calls a 403 "policy block", https://github.com/David-Barrett-MS/PowerShell-EWS-Scripts/issues/62) |
 * | otherwise | 200, GetFolderResponseMessage `Success` / `NoError` with the folder | getfolder-operation.md |
 *
 * Per-user `EWSEnabled` (Set-CASMailbox) and the older user-agent allow/block lists are not modelled.
 * @module
 */
import { createHash } from 'node:crypto';
import { errors } from 'jose';
import { audienceIn } from '../common/clouds.js';
import type { SimRequest, SimResponse, SimRoute } from '../common/server.js';
import { EXCHANGE_APP_ID } from '../common/well-known.js';
import type { SimTenant } from '../common/world.js';
import type { SimContext } from '../context.js';

/**
 * `aud` spellings Exchange Online accepts for EWS (research-17 §6: the v1 `aud` echoes the scope's spelling): the
 * cloud's Exchange App ID URIs but the PowerShell one (in the public cloud https://outlook.office365.com and
 * https://outlook.office.com, the latter for EWS app-only UNVERIFIED, accepted as the most-reported spelling),
 * and the app id by the documented v1 rule (no capture seen, UNVERIFIED).
 */
const ewsAudiences = (ctx: SimContext): readonly string[] =>
  ctx.world.cloud.exchangeUris.filter((u) => u !== 'https://ps.outlook.com');

/** From this day Exchange Online enforces EwsEnabled / EwsAllowedAppIDs (research-17 §1.1, SECONDARY). */
export const EWS_ENFORCEMENT_FROM = Date.UTC(2026, 9, 1);
/** From this day EWS in Exchange Online is off for every tenant, "no exceptions" (research-17 §1.1, SECONDARY). */
export const EWS_SHUTDOWN_FROM = Date.UTC(2027, 3, 1);

const TYPES = 'http://schemas.microsoft.com/exchange/services/2006/types';
const MESSAGES = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const ERRORS = 'http://schemas.microsoft.com/exchange/services/2006/errors';
const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';

/** Distinguished folder ids the simulator serves (distinguishedfolderid.md), with display names. */
const FOLDERS: Readonly<Record<string, string>> = {
  inbox: 'Inbox',
  msgfolderroot: 'Top of Information Store',
  calendar: 'Calendar',
  contacts: 'Contacts',
  sentitems: 'Sent Items',
  drafts: 'Drafts',
  deleteditems: 'Deleted Items',
};

export function ewsRoutes(ctx: SimContext): SimRoute[] {
  return [{ method: 'POST', path: '/EWS/Exchange.asmx', handler: (req) => exchangeAsmx(ctx, req) }];
}

/**
 * Whether the tenant's organization config blocks EWS for `appId` now (research-17 §1.1, §1.2):
 * - before 1 Oct 2026: `$false` blocks all; `$true` with a non-empty list allows only the listed apps; `$null`
 *   "is treated as EwsEnabled set to True" and the list "has no effect" (how-to-control-access-to-ews-in-exchange.md,
 *   Set-OrganizationConfig.md, CONFIRMED);
 * - from 1 Oct 2026: `$null` is turned into `$false` (SECONDARY), so blocked; `$true` allows only listed apps, and an
 *   empty or absent list blocks all (SECONDARY: "EwsEnabled=True with an empty list means all EWS blocked");
 * - from 1 Apr 2027: blocked for everyone.
 * The phased, tenant-by-tenant rollout is modelled as one date.
 */
export function ewsBlocked(tenant: SimTenant, appId: string, nowMs: number): boolean {
  if (nowMs >= EWS_SHUTDOWN_FROM) return true;
  const enabled = tenant.ewsEnabled ?? null;
  const list = (tenant.ewsAllowedAppIds ?? []).map((a) => a.trim().toLowerCase()).filter(Boolean);
  const listed = list.includes(appId.toLowerCase());
  if (nowMs < EWS_ENFORCEMENT_FROM) {
    if (enabled === false) return true;
    return enabled === true && list.length > 0 && !listed;
  }
  return enabled !== true || !listed;
}

async function exchangeAsmx(ctx: SimContext, req: SimRequest): Promise<SimResponse> {
  const caller = await authenticateEws(ctx, req);
  if ('status' in caller) return caller;
  if (ewsBlocked(caller.tenant, caller.appId, ctx.world.now())) return { status: 403 };

  const body = req.body;
  const impersonation =
    /<(?:[\w-]+:)?ExchangeImpersonation\b[\s\S]*?<\/(?:[\w-]+:)?ExchangeImpersonation>/.exec(body)?.[0];
  if (!impersonation)
    return soapFault(
      'ErrorInvalidExchangeImpersonationHeaderData',
      'ExchangeImpersonation SOAP header must be present for this type of OAuth token.',
    );
  // connectingsid.md: PrincipalName, SID, PrimarySmtpAddress or SmtpAddress; the simulator knows addresses only.
  const address = /<(?:[\w-]+:)?(?:PrimarySmtpAddress|SmtpAddress|PrincipalName)>\s*([^<\s]+)\s*</.exec(
    impersonation,
  )?.[1];
  if (!address)
    return soapFault(
      'ErrorInvalidExchangeImpersonationHeaderData',
      'The impersonation header does not specify a UPN, an e-mail address or a user SID.',
    );
  const anchor = req.headers['x-anchormailbox'];
  if (typeof anchor !== 'string' || !anchor.trim())
    return soapFault('ErrorInvalidRequest', 'The request is invalid: X-AnchorMailbox header is missing.');

  if (!/<(?:[\w-]+:)?GetFolder\b/.test(body))
    return soapFault('ErrorInvalidRequest', 'The request is invalid.');
  const folderKey = /<(?:[\w-]+:)?DistinguishedFolderId\b[^>]*\bId="([^"]+)"/.exec(body)?.[1]?.toLowerCase();
  const folderName = folderKey ? FOLDERS[folderKey] : undefined;

  const mailbox = findMailbox(caller.tenant, unescapeXml(address));
  if (!mailbox)
    return soapFault('ErrorNonExistentMailbox', 'The SMTP address has no mailbox associated with it.');
  if (mailbox.deniedAppIds.some((a) => a.toLowerCase() === caller.appId))
    return responseMessage(
      'Error',
      'ErrorAccessDenied',
      'Access is denied. Check credentials and try again.',
    );
  if (!folderName)
    return responseMessage(
      'Error',
      'ErrorFolderNotFound',
      'The specified folder could not be found in the store.',
    );
  const id = createHash('sha256').update(`${mailbox.address}|${folderKey}`).digest('base64');
  return responseMessage(
    'Success',
    'NoError',
    undefined,
    [
      `<m:Folders><t:Folder><t:FolderId Id="${id}" ChangeKey="AQAAABYAAAA="/>`,
      `<t:DisplayName>${folderName}</t:DisplayName><t:TotalCount>0</t:TotalCount>`,
      '<t:ChildFolderCount>0</t:ChildFolderCount><t:UnreadCount>0</t:UnreadCount></t:Folder></m:Folders>',
    ].join(''),
  );
}

interface EwsCaller {
  readonly tenant: SimTenant;
  readonly appId: string;
}

/** The token as Exchange Online checks it (table above); an answer to send instead when it fails. */
async function authenticateEws(ctx: SimContext, req: SimRequest): Promise<EwsCaller | SimResponse> {
  const unauthorized = (reason: string, code = '2000001'): SimResponse => ({
    status: 401,
    headers: {
      'www-authenticate': `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="${ctx.urls.entra}/common/oauth2/authorize", error="invalid_token"`,
      'x-ms-diagnostics': `${code};reason="${reason}";error_category="invalid_token"`,
    },
  });
  const header = req.headers.authorization;
  const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header.trim())?.[1] : undefined;
  if (!token || token.split('.').length !== 3) return unauthorized('The token is missing or malformed.');
  let claims: Record<string, unknown>;
  try {
    claims = await ctx.keys.verify(token);
  } catch (err) {
    if (err instanceof errors.JWTExpired) return unauthorized('The token has expired.');
    if (err instanceof errors.JOSEError) return unauthorized('The token is invalid.');
    throw err;
  }
  if (!audienceIn(claims.aud, ewsAudiences(ctx), EXCHANGE_APP_ID)) return { status: 403 };
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : undefined;
  const tenant = tid ? ctx.world.tenants.get(tid) : undefined;
  const appId = typeof claims.appid === 'string' ? claims.appid : claims.azp;
  if (!tenant || typeof appId !== 'string') return unauthorized('The token is invalid.');
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (!roles.includes('full_access_as_app'))
    return {
      status: 401,
      headers: {
        'x-ms-diagnostics':
          '2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"',
      },
    };
  return { tenant, appId: appId.toLowerCase() };
}

/** The mailbox of an address or of the user with that UPN; none for guests or without Exchange Online. */
function findMailbox(tenant: SimTenant, address: string) {
  if (!tenant.hasExchangeOnline) return undefined;
  const key = address.toLowerCase();
  const direct = tenant.mailboxes.find((m) => m.address === key);
  if (direct) return direct;
  const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === key && !u.guest);
  return user ? tenant.mailboxes.find((m) => m.userObjectId === user.objectId) : undefined;
}

function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${SOAP}">${header}<s:Body>${body}</s:Body></s:Envelope>`;
}

function xml(status: number, text: string): SimResponse {
  return { status, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: text };
}

/** A SOAP 1.1 Fault, HTTP 500 (SOAP 1.1 §6.2), as EWS sends header-level errors (ews-managed-api#223). */
function soapFault(code: string, message: string): SimResponse {
  return xml(
    500,
    envelope(
      `<s:Fault><faultcode xmlns:a="${TYPES}">a:${code}</faultcode><faultstring xml:lang="en-US">${message}</faultstring>` +
        `<detail><e:ResponseCode xmlns:e="${ERRORS}">${code}</e:ResponseCode><e:Message xmlns:e="${ERRORS}">${message}</e:Message></detail></s:Fault>`,
    ),
  );
}

/** A GetFolderResponse with one message (getfolder-operation.md, "GetFolder operation response"). */
function responseMessage(
  responseClass: 'Success' | 'Error',
  code: string,
  messageText?: string,
  inner = '',
): SimResponse {
  const text = messageText ? `<m:MessageText>${messageText}</m:MessageText>` : '';
  return xml(
    200,
    envelope(
      `<m:GetFolderResponse xmlns:m="${MESSAGES}" xmlns:t="${TYPES}"><m:ResponseMessages>` +
        `<m:GetFolderResponseMessage ResponseClass="${responseClass}">${text}<m:ResponseCode>${code}</m:ResponseCode>` +
        `${responseClass === 'Error' ? '<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>' : ''}${inner}` +
        '</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>',
      `<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8000" MinorBuildNumber="0" Version="V2018_01_08" xmlns:h="${TYPES}"/></s:Header>`,
    ),
  );
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
