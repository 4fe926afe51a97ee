/**
 * "Test Connection" as the PBX would (src/support/checks.ts `checkTenant`): for each mailbox and protocol, a real
 * login to Exchange Online with the token the broker would vend (src/adapters/exchange/mail-probe.ts), and
 * Exchange's answer turned into the cause and the fix for this tenant and mailbox. The PowerShell comes from the
 * generator of exchange-setup.ps1 (src/support/exchange-setup.ts). Causes, by the reply:
 * - SMTP `535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant|Mailbox`: SMTP AUTH off
 *   (Set-TransportConfig / Set-CASMailbox -SmtpClientAuthenticationDisabled,
 *   https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission);
 * - IMAP `User is authenticated but not connected.` after a good login: IMAP off for the mailbox, or the mailbox
 *   not granted to the app (Set-CASMailbox -ImapEnabled,
 *   https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/enable-or-disable-pop3-or-imap4-access;
 *   the reply as clients report it, third-party only);
 * - IMAP `AUTHENTICATE failed.`, POP `-ERR Authentication failure…`, SMTP `535 5.7.3 Authentication unsuccessful`:
 *   Exchange refused the login — the service principal not registered in Exchange, the mailbox not granted to it
 *   or left out by an access policy or RBAC scope, or (POP) POP off for the mailbox
 *   (how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth, "Register service principals in Exchange");
 * - a refused login to an address Graph finds no mailbox for (when the app can read mail through Graph): no such
 *   mailbox (`withMissingMailboxes`);
 * - a token without the protocol's role is reported before any login (the admin's consent lacks it);
 * - Exchange unreachable: try again. Anything else is shown as it came, with the step.
 * @module
 */
import type { AppToken } from '../adapters/entra/port.js';
import {
  MailProtocolUnavailable,
  type MailProbe,
  type MailProtocol,
  type MailProtocols,
} from '../adapters/exchange/port.js';
import type { Check } from './checks.js';
import type { TokenOutcome } from './checks-tokens.js';
import { exchangeSetupCommands, type ExchangeSetupValues } from './exchange-setup.js';
import { psQuote } from './powershell.js';

export const PROTOCOLS: readonly MailProtocol[] = ['imap', 'pop', 'smtp'];
/** At most this many of the check's mailboxes are logged in to, per protocol, all at once. */
export const MAX_PROTOCOL_MAILBOXES = 3;

export const ROLE: Readonly<Record<MailProtocol, string>> = {
  imap: 'IMAP.AccessAsApp',
  pop: 'POP.AccessAsApp',
  smtp: 'SMTP.SendAsApp',
};
export const NAME: Readonly<Record<MailProtocol, string>> = { imap: 'IMAP', pop: 'POP', smtp: 'SMTP AUTH' };

/** Why a login failed, in the check's words: a stable cause for support and tests. */
export type ProtocolCause =
  | 'ok'
  | 'roleMissing'
  | 'smtpAuthDisabledForTenant'
  | 'smtpAuthDisabledForMailbox'
  | 'notConnected'
  | 'loginRefused'
  | 'noMailbox'
  | 'unavailable'
  | 'unknown';

export interface ProtocolCheck extends Check {
  readonly cause: ProtocolCause;
}

export async function protocolChecks(
  mail: MailProtocols,
  request: {
    readonly protocols: readonly MailProtocol[];
    readonly mailboxes: readonly string[];
    /** The Exchange Online token the broker would vend (app-only), or why there is none. */
    readonly exchangeToken: TokenOutcome | undefined;
    readonly setup: ExchangeSetupValues | undefined;
    readonly consentUrl: string | null;
  },
): Promise<ProtocolCheck[]> {
  const mailboxes = request.mailboxes.slice(0, MAX_PROTOCOL_MAILBOXES);
  const outcome = request.exchangeToken;
  const token = outcome?.ok ? outcome.token : undefined;
  return Promise.all(
    request.protocols.flatMap((protocol) =>
      mailboxes.map(async (mailbox): Promise<ProtocolCheck> => {
        const name = `${protocol}:${mailbox}`;
        if (!token)
          return {
            name,
            cause: 'unavailable',
            ok: null,
            detail: `No Exchange Online token could be had, so no ${NAME[protocol]} login was tried (see the token check).`,
            remediation: null,
          };
        if (!token.roles.includes(ROLE[protocol]))
          return {
            name,
            cause: 'roleMissing',
            ok: false,
            detail: `The Exchange Online token carries no ${ROLE[protocol]}: the tenant's consent does not include it, so Exchange would refuse every ${NAME[protocol]} login.`,
            remediation: request.consentUrl
              ? `An administrator consents again (it includes ${ROLE[protocol]}): ${request.consentUrl}`
              : `Grant the application ${ROLE[protocol]} (admin consent), then run the check again.`,
          };
        const probe = await probeOrUnavailable(mail, protocol, mailbox, token.accessToken);
        if (!('outcome' in probe)) return { name, ...probe };
        return { name, ...classify(probe, mailbox, token, request.setup) };
      }),
    ),
  );
}

function classify(
  probe: MailProbe,
  mailbox: string,
  token: AppToken,
  setup: ExchangeSetupValues | undefined,
): Omit<ProtocolCheck, 'name'> {
  const { protocol, reply, step } = probe;
  const said = `Exchange answered "${reply}" at ${step}.`;
  const m = psQuote(mailbox);
  const registration = setup
    ? `An Exchange administrator runs, in PowerShell (the same steps as exchange-setup.ps1 for this mailbox):\n${exchangeSetupCommands({ ...setup, mailboxes: [mailbox] })}`
    : `Register the application's service principal in Exchange Online (New-ServicePrincipal) and grant it ${mailbox} (Add-MailboxPermission -AccessRights FullAccess); GET /api/tenants/${token.tenantId}/exchange-setup.ps1?mailboxes=${mailbox} gives the script.`;
  const common = classifyLogin(probe, mailbox, mailbox);
  if (common) return common;
  if (protocol === 'imap' && step === 'command' && /authenticated but not connected/i.test(reply))
    return {
      cause: 'notConnected',
      ok: false,
      detail: `The token was accepted but the mailbox did not open: IMAP is turned off for ${mailbox}, or the mailbox is not granted to the application. ${said}`,
      remediation: `An Exchange administrator turns IMAP on for the mailbox:\nSet-CASMailbox -Identity ${m} -ImapEnabled $true\nand, if the mailbox is not granted yet:\n${registration}`,
    };
  if (step === 'auth' && refusedLogin(protocol, reply))
    return {
      cause: 'loginRefused',
      ok: false,
      detail: `Exchange refused the ${NAME[protocol]} login as ${mailbox}: the application's service principal is not registered in Exchange Online, or the mailbox is not granted to it (or an access policy or RBAC scope leaves it out)${protocol === 'pop' ? ', or POP is turned off for the mailbox' : ''}. ${said}`,
      remediation: `${registration}${protocol === 'pop' ? `\nand, if POP is off for the mailbox:\nSet-CASMailbox -Identity ${m} -PopEnabled $true` : ''}`,
    };
  return {
    cause: 'unknown',
    ok: false,
    detail: `${NAME[protocol]} login as ${mailbox} failed with a reply the broker does not recognise. ${said}`,
    remediation: 'Give support this reply; it is shown exactly as Exchange sent it.',
  };
}

/**
 * The answers whose cause and fix do not depend on who logged in (the app or a user): accepted, and SMTP AUTH
 * off for the tenant or the mailbox (`535 5.7.139`). `shownAs` names the login in the detail.
 */
export function classifyLogin(
  probe: MailProbe,
  shownAs: string,
  mailbox: string,
): Omit<ProtocolCheck, 'name'> | undefined {
  const { protocol, reply, step } = probe;
  const said = `Exchange answered "${reply}" at ${step}.`;
  const m = psQuote(mailbox);
  if (probe.outcome === 'ok')
    return {
      cause: 'ok',
      ok: true,
      detail: `${NAME[protocol]} login as ${shownAs} accepted${protocol === 'smtp' ? '' : ' and the mailbox opened'} (${reply}).`,
      remediation: null,
    };
  if (protocol === 'smtp' && /\b5\.7\.139\b/.test(reply) && /disabled for the Tenant/i.test(reply))
    return {
      cause: 'smtpAuthDisabledForTenant',
      ok: false,
      detail: `SMTP AUTH is disabled for the whole tenant (Set-TransportConfig). ${said}`,
      remediation: `An Exchange administrator either turns SMTP AUTH on for this mailbox only (recommended):\nSet-CASMailbox -Identity ${m} -SmtpClientAuthenticationDisabled $false\nor for the tenant:\nSet-TransportConfig -SmtpClientAuthenticationDisabled $false`,
    };
  if (protocol === 'smtp' && /\b5\.7\.139\b/.test(reply) && /disabled for the Mailbox/i.test(reply))
    return {
      cause: 'smtpAuthDisabledForMailbox',
      ok: false,
      detail: `SMTP AUTH is disabled for ${mailbox} (Set-CASMailbox). ${said}`,
      remediation: `An Exchange administrator runs:\nSet-CASMailbox -Identity ${m} -SmtpClientAuthenticationDisabled $false`,
    };
  return undefined;
}

/**
 * Refused logins to addresses Microsoft Graph found no mailbox for (the check's `mailbox:` items, when the app
 * can read mail through Graph): Exchange gives a missing mailbox the same refusal as an ungranted one, so the
 * cause is told from Graph's answer.
 */
export function withMissingMailboxes(
  checks: readonly ProtocolCheck[],
  missing: ReadonlySet<string>,
): ProtocolCheck[] {
  return checks.map((c) => {
    const mailbox = c.name.slice(c.name.indexOf(':') + 1);
    if (c.cause !== 'loginRefused' || !missing.has(mailbox)) return c;
    const said = c.detail.slice(c.detail.indexOf('Exchange answered'));
    return {
      ...c,
      cause: 'noMailbox',
      detail: `There is no mailbox ${mailbox} in the tenant (Microsoft Graph finds none: see mailbox:${mailbox}), so Exchange refused the login. ${said}`,
      remediation:
        'Check the address (a typing error, or the mailbox lives in another tenant); a user needs an Exchange Online licence to have a mailbox.',
    };
  });
}

/** Exchange's replies to a refused XOAUTH2 login (the module's list of causes). */
export function refusedLogin(protocol: MailProtocol, reply: string): boolean {
  return (
    (protocol === 'imap' && /AUTHENTICATE failed/i.test(reply)) ||
    (protocol === 'pop' && /^-ERR Authentication failure/i.test(reply)) ||
    (protocol === 'smtp' && /^535 5\.7\.3\b/.test(reply))
  );
}

/** A login, or the check's answer when Exchange could not be reached or a step did not answer in time. */
export async function probeOrUnavailable(
  mail: MailProtocols,
  protocol: MailProtocol,
  mailbox: string,
  accessToken: string,
): Promise<MailProbe | Omit<ProtocolCheck, 'name'>> {
  try {
    return await mail.probe(protocol, mailbox, accessToken);
  } catch (err) {
    if (!(err instanceof MailProtocolUnavailable)) throw err;
    return {
      cause: 'unavailable',
      ok: false,
      detail: `Exchange Online ${NAME[protocol]} could not be reached or did not answer in time (${err.message}).`,
      remediation: 'Try the check again in a few minutes.',
    };
  }
}
