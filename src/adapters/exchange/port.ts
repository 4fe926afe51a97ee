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

/**
 * Exchange Online's IMAP, as the PBX reaches it: one SASL XOAUTH2 login (`user=<mailbox>^Aauth=Bearer <token>^A^A`,
 * https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth)
 * and a LOGOUT; nothing is read. A delegated token opens the user's own mailbox, or a shared mailbox the user has
 * Full Access to when the shared mailbox is the XOAUTH2 user (same page, "shared mailbox access").
 * One implementation: `createImapLogin` in imap.ts.
 */
export interface MailboxLogin {
  /** `ok` when Exchange accepted the login for `mailbox`, `refused` when it answered NO or BAD. */
  imapLogin(mailbox: string, accessToken: string): Promise<'ok' | 'refused'>;
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
