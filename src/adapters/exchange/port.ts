/**
 * What the broker needs from Exchange Web Services, in the broker's words: whether EWS opens a mailbox for the app
 * now. Since 1 October 2026 Exchange Online blocks EWS in a tenant unless the tenant allows the app
 * (Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs …); on 1 April 2027 EWS ends for good
 * (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-control-access-to-ews-in-exchange).
 * One implementation: `createEwsClient` in ews.ts.
 * @module
 */

/**
 * - `allowed`: EWS answered the impersonated GetFolder of the inbox with NoError.
 * - `blocked`: HTTP 403 without a SOAP answer, what field reports show when the tenant's EwsEnabled /
 *   EwsAllowedAppIDs keep the app out (unverified: Microsoft documents no wire answer for it).
 * - `noMailboxAccess`: EWS answered, but not for this mailbox: `code` is the EWS ResponseCode
 *   (ErrorAccessDenied, ErrorImpersonateUserDenied, ErrorNonExistentMailbox, …).
 * - `refused`: any other refusal; `status` and, where there was one, the ResponseCode or the `x-ms-diagnostics`
 *   number (e.g. 401 with 2000008: the token carries no EWS permission).
 */
export type EwsProbe =
  | { readonly outcome: 'allowed' }
  | { readonly outcome: 'blocked'; readonly status: number }
  | { readonly outcome: 'noMailboxAccess'; readonly code: string }
  | { readonly outcome: 'refused'; readonly status: number; readonly code: string | undefined };

/**
 * Exchange Web Services, app-only.
 *
 * `probeMailbox`: one impersonated `GetFolder` of `mailbox`'s inbox with `accessToken` (an app-only token for
 * https://outlook.office365.com/.default); answers an {@link EwsProbe}; throws {@link EwsUnavailable} when EWS cannot
 * answer now (network, timeout, 429, 5xx without a mailbox answer, ErrorServerBusy and the like); never puts the
 * token in an error, a log or a result.
 */
export interface ExchangeWebServices {
  probeMailbox(accessToken: string, mailbox: string): Promise<EwsProbe>;
}

/** EWS could not answer now; try again after `retryAfterSeconds`. */
export class EwsUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Exchange Web Services is unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Exchange's mail protocol could not answer now (connection, TLS, timeout); try again after `retryAfterSeconds`. */
export class MailProtocolUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Exchange Online IMAP is unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type MailProtocol = 'imap' | 'pop' | 'smtp';

/**
 * One login as the PBX makes it (mail-probe.ts): `ok` when Exchange accepted the login and the harmless command
 * after it (EXAMINE INBOX, STAT; for SMTP the AUTH itself), else `refused` with the step it stopped at and
 * Exchange's reply line there (never containing the token: the server does not echo it).
 */
export interface MailProbe {
  readonly protocol: MailProtocol;
  readonly outcome: 'ok' | 'refused';
  readonly step: 'connect' | 'greeting' | 'starttls' | 'auth' | 'command';
  readonly reply: string;
}

export interface MailProtocols {
  /** Throws MailProtocolUnavailable when Exchange could not be reached or did not answer in time. */
  probe(protocol: MailProtocol, mailbox: string, accessToken: string): Promise<MailProbe>;
}
