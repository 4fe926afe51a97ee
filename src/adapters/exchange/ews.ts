/**
 * The {@link ExchangeWebServices} on Node's fetch: a SOAP `GetFolder` of the impersonated mailbox's inbox, as
 * https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
 * describes an app-only request: a bearer token for https://outlook.office365.com/.default, "explicitly impersonate a
 * mailbox" with `ExchangeImpersonation` / `ConnectingSID` / `PrimarySmtpAddress`
 * (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-identify-the-account-to-impersonate),
 * and "you must always use the X-AnchorMailbox request header … set to the SMTP address of the impersonated mailbox".
 * The request is the shape of Microsoft's Test-EWSAppAccess.ps1
 * (https://github.com/David-Barrett-MS/PowerShell-EWS-Scripts/blob/master/Legacy/Test-EWSAppAccess.ps1).
 *
 * The answer is read in at most {@link MAX_BODY_BYTES} and parsed only as far as needed: the
 * GetFolderResponseMessage's `ResponseClass` and `ResponseCode` (getfolder-operation.md), or a SOAP Fault's
 * `detail/ResponseCode` (else `faultcode`), which EWS sends with HTTP 500 for header-level errors such as
 * impersonation (https://github.com/OfficeDev/ews-managed-api/issues/223), or else the HTTP status.
 * @module
 */
import { EwsUnavailable, type EwsProbe, type ExchangeWebServices } from './port.js';

export interface EwsClientOptions {
  /** `https://outlook.office365.com/EWS/Exchange.asmx`, or the simulator's. */
  readonly url: string;
  /** Deadline for the whole exchange, body included. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A GetFolder answer for one folder is a few KiB; anything longer is cut here. */
const MAX_BODY_BYTES = 64 * 1024;
/** Retry-After we report when EWS is unreachable or sends none. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** responsecode.md: the mailbox is not the app's to open (scoping, impersonation rights) or does not exist. */
const NO_MAILBOX_ACCESS_CODES = new Set([
  'ErrorAccessDenied',
  'ErrorImpersonateUserDenied',
  'ErrorNonExistentMailbox',
  'ErrorImpersonationFailed',
]);
/** responsecode.md: codes that mean "not now" rather than "no". */
const UNAVAILABLE_CODES = new Set([
  'ErrorServerBusy',
  'ErrorMailboxStoreUnavailable',
  'ErrorInternalServerTransientError',
  'ErrorTimeoutExpired',
  'ErrorMailboxMoveInProgress',
  'ErrorExceededConnectionCount',
]);

export function createEwsClient(options: EwsClientOptions): ExchangeWebServices {
  const url = new URL(options.url);
  if (url.protocol !== 'https:') throw new TypeError(`the EWS URL must be an https URL, got ${url.protocol}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return {
    async probeMailbox(accessToken, mailbox) {
      if (!mailbox) throw new RangeError('probeMailbox needs a mailbox address');
      const signal = AbortSignal.timeout(timeoutMs);
      let status: number;
      let headers: Headers;
      let text: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${accessToken}`,
            'content-type': 'text/xml; charset=utf-8',
            accept: 'text/xml',
            'x-anchormailbox': mailbox,
          },
          body: getFolderRequest(mailbox),
          signal,
          redirect: 'manual',
        });
        status = res.status;
        headers = res.headers;
        text = await readBounded(res);
      } catch (err) {
        // A network failure or the deadline: the error's name only (its message could echo the request).
        const name = err instanceof Error ? err.name : 'error';
        throw new EwsUnavailable(
          DEFAULT_RETRY_AFTER_SECONDS,
          `Exchange Web Services could not be reached (${name})`,
        );
      }
      return toProbe(status, headers, text);
    },
  };
}

/** SOAP answer → EwsProbe (module comment); throws EwsUnavailable for "not now". */
function toProbe(status: number, headers: Headers, text: string): EwsProbe {
  const code = responseCodeOf(text);
  if (code !== undefined) {
    if (code.responseClass === 'Success' && code.code === 'NoError' && status === 200)
      return { outcome: 'allowed' };
    if (UNAVAILABLE_CODES.has(code.code))
      throw new EwsUnavailable(
        retryAfterOf(headers),
        `Exchange Web Services answered ${status} ${code.code}`,
      );
    if (NO_MAILBOX_ACCESS_CODES.has(code.code)) return { outcome: 'noMailboxAccess', code: code.code };
    return { outcome: 'refused', status, code: code.code };
  }
  if (status === 429 || status >= 500)
    throw new EwsUnavailable(retryAfterOf(headers), `Exchange Web Services answered ${status}`);
  // research-17 §1.3 (UNVERIFIED): a tenant's EwsEnabled / EwsAllowedAppIDs block is a bare 403.
  if (status === 403) return { outcome: 'blocked', status };
  // x-ms-diagnostics "2000008;reason=…": the number only, never the rest.
  const diagnostics = /^\s*(\d{4,10})\b/.exec(headers.get('x-ms-diagnostics') ?? '')?.[1];
  return { outcome: 'refused', status, code: diagnostics };
}

interface ResponseCode {
  /** Success, Warning or Error; `Fault` for a SOAP Fault. */
  readonly responseClass: string;
  readonly code: string;
}

/** The GetFolderResponseMessage's class and code, or a SOAP Fault's code; undefined when neither is there. */
function responseCodeOf(text: string): ResponseCode | undefined {
  const p = '(?:[\\w.-]+:)?';
  const message = new RegExp(
    `<${p}GetFolderResponseMessage\\b[^>]*\\bResponseClass="(\\w+)"[^>]*>([\\s\\S]*?)</${p}GetFolderResponseMessage>`,
  ).exec(text);
  if (message) {
    const code = new RegExp(`<${p}ResponseCode>\\s*(\\w+)\\s*</${p}ResponseCode>`).exec(message[2]!)?.[1];
    if (code) return { responseClass: message[1]!, code };
  }
  const fault = new RegExp(`<${p}Fault\\b[^>]*>([\\s\\S]*?)</${p}Fault>`).exec(text)?.[1];
  if (fault) {
    const detail = new RegExp(`<${p}ResponseCode\\b[^>]*>\\s*(\\w+)\\s*</${p}ResponseCode>`).exec(fault)?.[1];
    const faultcode = /<faultcode\b[^>]*>\s*(?:[\w.-]+:)?(\w+)\s*<\/faultcode>/.exec(fault)?.[1];
    const code = detail ?? faultcode;
    if (code) return { responseClass: 'Fault', code };
  }
  return undefined;
}

/** The impersonated GetFolder of the inbox (getfolder-operation.md, how-to-identify-the-account-to-impersonate.md). */
function getFolderRequest(mailbox: string): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"',
    '               xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"',
    '               xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">',
    '  <soap:Header>',
    '    <t:RequestServerVersion Version="Exchange2016" />',
    `    <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>${escapeXml(mailbox)}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`,
    '  </soap:Header>',
    '  <soap:Body>',
    '    <m:GetFolder>',
    '      <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>',
    '      <m:FolderIds><t:DistinguishedFolderId Id="inbox" /></m:FolderIds>',
    '    </m:GetFolder>',
    '  </soap:Body>',
    '</soap:Envelope>',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The body as text, at most MAX_BODY_BYTES (the rest is dropped and the stream cancelled). */
async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = MAX_BODY_BYTES - size;
    chunks.push(value.length > room ? value.subarray(0, room) : value);
    size += Math.min(value.length, room);
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After in whole seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), default 5. */
function retryAfterOf(headers: Headers): number {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return DEFAULT_RETRY_AFTER_SECONDS;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const at = Date.parse(raw);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}
