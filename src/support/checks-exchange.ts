/**
 * The Exchange check of a support check (src/support/checks.ts `checkTenant`): for IMAP/POP/SMTP, whether the
 * app's enterprise application exists and is enabled, and the Exchange PowerShell with the tenant's real values
 * (src/support/exchange-setup.ts).
 * @module
 */
import type { Check } from './checks.js';
import {
  exchangeSetupCommands,
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
