/**
 * The Exchange checks of a support check (src/support/checks.ts `checkTenant`): for IMAP/POP/SMTP, whether the
 * app's enterprise application exists and is enabled, and the Exchange PowerShell with the tenant's real values
 * (src/support/exchange-setup.ts); for EWS (`full_access_as_app`), a live EWS request per mailbox
 * ({@link ewsChecks}).
 * @module
 */
import type { AppToken } from '../adapters/entra/port.js';
import { EwsUnavailable, type EwsProbe, type ExchangeWebServices } from '../adapters/exchange/port.js';
import type { Resource } from '../profiles/profiles.js';
import type { Check } from './checks.js';
import type { TokenOutcome } from './checks-tokens.js';
import { environmentParameter } from './exchange-setup-steps.js';
import {
  ewsAllowListSteps,
  exchangeSetupCommands,
  mailboxAccessCommands,
  type ExchangeApp,
  type ExchangeSetupValues,
  type ResolvedServicePrincipal,
} from './exchange-setup.js';

// ------------------------------------------------------------------------------------------- exchange

export function exchangeCheck(
  protocols: readonly string[],
  app: ExchangeApp,
  sp: ResolvedServicePrincipal,
  setup: ExchangeSetupValues | undefined,
  consentUrl: string | null,
): Check {
  const name = 'exchange-setup';
  const whose = app.ownApp
    ? `The tenant's own application (app id ${app.appId})`
    : "The vendor's application";
  if (!sp.found || !setup)
    return {
      name,
      ok: false,
      detail:
        !sp.found && sp.reason === 'unreadable'
          ? "The enterprise application's object id could not be read (Microsoft Graph unavailable, none recorded)."
          : `${whose} has no enterprise application in this tenant, so it cannot be registered in Exchange Online for ${protocols.join('/')}.`,
      remediation:
        !sp.found && sp.reason === 'unreadable'
          ? 'Try the check again shortly.'
          : consentUrl
            ? `Consent first: open this consent link and approve: ${consentUrl}`
            : 'Consent first, then run the check again.',
    };
  if (sp.accountEnabled === false)
    return {
      name,
      ok: false,
      detail: `The enterprise application (object id ${sp.id}) is disabled in this tenant.`,
      remediation:
        'In the Microsoft Entra admin center, open Enterprise applications, select the vendor\'s application, and under Properties set "Enabled for users to sign in?" to Yes.',
    };
  return {
    name,
    ok: true,
    detail: `${protocols.join('/')} need the enterprise application (object id ${sp.id}, app id ${setup.appId}) registered as an Exchange Online service principal and a permission on each mailbox. Microsoft Graph cannot show either, so the PowerShell below is what to run once (and again for new mailboxes).`,
    remediation: `An Exchange administrator runs, in PowerShell (or download it: GET /api/tenants/${setup.tenantId}/exchange-setup.ps1?mailboxes=…):\n${exchangeSetupCommands(setup)}`,
  };
}

// ------------------------------------------------------------------------------------------------ ews

/** At most this many of the check's mailboxes are probed over EWS (one request each, at once). */
export const MAX_EWS_PROBES = 3;

/**
 * Why the EWS check matters, in every EWS item (research-17 §1.1: Exchange Team blog "Exchange Online EWS, Your Time
 * is Almost Up", https://techcommunity.microsoft.com/blog/exchange/exchange-online-ews-your-time-is-almost-up/4492361,
 * and "Introducing EWSAllowedAppIDs", https://techcommunity.microsoft.com/blog/exchange/introducing-ewsallowedappids-preparing-for-the-final-phase-of-ews-retirement/4529471;
 * both read through secondary copies).
 */
const EWS_RETIREMENT_WORDS =
  'Since 1 October 2026 Exchange Online blocks EWS in a tenant unless the tenant allows it (EWSEnabled set to True and the app on its EWS allow-list, EWSAllowedAppIDs); on 1 April 2027 EWS in Exchange Online ends for good, so the PBX must use Microsoft Graph by then.';

/**
 * One live EWS probe per mailbox (the first {@link MAX_EWS_PROBES}): an impersonated GetFolder of the inbox with
 * the app's Exchange Online token (src/adapters/exchange/ews.ts). Without a mailbox nothing is probed: one item with
 * `ok: null` says so. The remediation of a block is the tenant's allow-list step for the app the broker uses
 * (ewsAllowListSteps, which keeps every id already listed).
 */
export async function ewsChecks(
  ews: ExchangeWebServices,
  resource: Resource,
  outcome: TokenOutcome | undefined,
  mailboxes: readonly string[],
  app: ExchangeApp,
  setup: ExchangeSetupValues | undefined,
): Promise<Check[]> {
  const allowList = `An Exchange administrator runs, in Exchange Online PowerShell (after Connect-ExchangeOnline${setup ? environmentParameter(setup.exchangeEnvironment) : ''}); it keeps every app id already on the list, and a change can take up to a day to reach every Exchange server:\n${ewsAllowListSteps(app.appId)}`;
  if (!mailboxes.length)
    return [
      {
        name: 'ews',
        ok: null,
        detail: `Not probed: the EWS probe opens a mailbox's inbox as the app (impersonation), so it needs a mailbox; run the check again with "mailboxes": ["someone@…"]. ${EWS_RETIREMENT_WORDS}`,
        remediation: `If the tenant has not allowed the app (app id ${app.appId}) yet: ${allowList}`,
      },
    ];
  const token = outcome?.ok ? outcome.token : undefined;
  return Promise.all(
    mailboxes.slice(0, MAX_EWS_PROBES).map((m) => ewsCheck(ews, resource, token, m, app, setup, allowList)),
  );
}

async function ewsCheck(
  ews: ExchangeWebServices,
  resource: Resource,
  token: AppToken | undefined,
  mailbox: string,
  app: ExchangeApp,
  setup: ExchangeSetupValues | undefined,
  allowList: string,
): Promise<Check> {
  const name = `ews:${mailbox}`;
  if (!token)
    return {
      name,
      ok: false,
      detail: `Not probed: there is no ${resource.displayName} token (see token:${resource.key}).`,
      remediation: `Fix the ${resource.displayName} token check first.`,
    };
  let probe: EwsProbe;
  try {
    probe = await ews.probeMailbox(token.accessToken, mailbox);
  } catch (err) {
    if (!(err instanceof EwsUnavailable)) throw err;
    return {
      name,
      ok: false,
      detail: 'Exchange Web Services could not be reached; nothing was concluded about EWS for this tenant.',
      remediation: `Try the check again in ${err.retryAfterSeconds} seconds.`,
    };
  }
  const whose = app.ownApp
    ? `the tenant's own application (app id ${app.appId})`
    : `the vendor application (app id ${app.appId})`;
  switch (probe.outcome) {
    case 'allowed':
      return {
        name,
        ok: true,
        detail: `EWS works for ${whose} now: Exchange Online opened the inbox of this mailbox over EWS. ${EWS_RETIREMENT_WORDS}`,
        remediation: `Nothing to change now. Keep the app on the allow-list (should the list ever be rewritten, this step puts it back and keeps the others), and move the PBX to Microsoft Graph before 1 April 2027. ${allowList}`,
      };
    case 'blocked':
      return {
        name,
        ok: false,
        detail: `EWS is blocked for ${whose} by the tenant's EWS settings: Exchange Online answered HTTP ${probe.status} before opening any mailbox, which is how it refuses an app when EWSEnabled is not True or the app is not on EWSAllowedAppIDs. ${EWS_RETIREMENT_WORDS}`,
        remediation: allowList,
      };
    case 'noMailboxAccess':
      return {
        name,
        ok: false,
        detail:
          probe.code === 'ErrorNonExistentMailbox'
            ? `EWS is allowed for ${whose} in this tenant, but this address has no mailbox (${probe.code}). ${EWS_RETIREMENT_WORDS}`
            : `EWS is allowed for ${whose} in this tenant, but not for this mailbox (${probe.code}): an application access policy or an RBAC for Applications scope leaves it out. ${EWS_RETIREMENT_WORDS}`,
        remediation:
          probe.code === 'ErrorNonExistentMailbox'
            ? 'Check the address (a typing error, or the mailbox lives in another tenant); a user needs an Exchange Online licence to have a mailbox.'
            : setup
              ? `An Exchange administrator runs, in Exchange Online PowerShell:\n${mailboxAccessCommands(setup, mailbox)}`
              : `An Exchange administrator must include this mailbox in the application access policy or RBAC scope of app ${app.appId}.`,
      };
    case 'refused':
      return {
        name,
        ok: false,
        detail:
          `Exchange Online refused the EWS request: HTTP ${probe.status}${probe.code ? ` (${probe.code})` : ''}. ${probe.status === 401 ? 'The token was not accepted for EWS: the app needs full_access_as_app on Office 365 Exchange Online (see the role checks).' : ''}`.trimEnd(),
        remediation:
          probe.status === 401
            ? 'Fix the role checks first (full_access_as_app), then run the check again; give the vendor this code if it persists.'
            : 'Give the vendor this code if it persists.',
      };
  }
}
