/**
 * The Microsoft Graph checks of a support check (src/support/checks.ts `checkTenant`): the organization (name
 * and verified domains) and the optional mailbox probes (reachable, no such mailbox, or access denied and by
 * what; FACTS.md §6.4).
 * @module
 */
import { EntraRefused, EntraUnavailable, type AppToken } from '../adapters/entra/port.js';
import {
  GraphRefused,
  GraphUnavailable,
  type MailboxProbe,
  type Organization,
} from '../adapters/graph/port.js';
import type { Resource } from '../profiles/profiles.js';
import type { Check, CheckDeps } from './checks.js';
import { isExternalFailure, mailboxAccessCommands, type ExchangeSetupValues } from './exchange-setup.js';

/** Application permissions that let the mailbox probe open an inbox (FACTS.md §6.4, §7). */
const MAIL_READ_ROLES = ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'];

// -------------------------------------------------------------------------------------- organization

export async function organizationCheck(
  graphResource: Resource | undefined,
  graphToken: AppToken | undefined,
  organization: () => Promise<Organization>,
  consentUrl: string | null,
): Promise<{ check: Check; organization?: Organization }> {
  const name = 'organization';
  if (!graphResource)
    return {
      check: { name, ok: false, detail: 'No Microsoft Graph resource is configured.', remediation: null },
    };
  if (!graphToken)
    return {
      check: {
        name,
        ok: false,
        detail: `Not read: there is no Microsoft Graph token (see token:${graphResource.key}).`,
        remediation: 'Fix the Microsoft Graph token check first.',
      },
    };
  if (!graphToken.roles.includes('Organization.Read.All'))
    return {
      check: {
        name,
        ok: false,
        detail:
          'Not read: the vendor application has not been granted Organization.Read.All in Microsoft Graph, which the broker needs to read the tenant name and verified domains.',
        remediation: consentUrl
          ? `A Global Administrator or Privileged Role Administrator must open this consent link and approve: ${consentUrl}`
          : 'A Global Administrator or Privileged Role Administrator must consent again.',
      },
    };
  try {
    const org = await organization();
    const domains = org.verifiedDomains.map((d) => d.name + (d.isDefault ? ' (default)' : ''));
    return {
      organization: org,
      check: {
        name,
        ok: true,
        detail: `${org.displayName}; verified domains: ${domains.join(', ') || 'none'}.`,
        remediation: null,
      },
    };
  } catch (err) {
    if (!isExternalFailure(err)) throw err;
    return { check: { name, ...graphFailure(err, 'the organization') } };
  }
}

/** A Graph (or Graph token) failure as a failed check's detail and remediation. */
function graphFailure(err: unknown, what: string): Pick<Check, 'ok' | 'detail' | 'remediation'> {
  if (err instanceof GraphRefused)
    return {
      ok: false,
      detail: `Microsoft Graph refused to read ${what}: ${err.status} ${err.code}.`,
      remediation: 'Give the vendor this code if it persists.',
    };
  if (err instanceof EntraRefused)
    return {
      ok: false,
      detail: `No Microsoft Graph token to read ${what}: Entra ID refused (${err.aadsts ? `AADSTS${err.aadsts}` : err.error}).`,
      remediation: 'See the token checks.',
    };
  const retry =
    err instanceof GraphUnavailable || err instanceof EntraUnavailable ? err.retryAfterSeconds : 5;
  return {
    ok: false,
    detail: `Microsoft Graph (or Entra ID, for its token) could not be reached to read ${what}.`,
    remediation: `Try the check again in ${retry} seconds.`,
  };
}

// ------------------------------------------------------------------------------------------ mailboxes

export async function mailboxCheck(
  deps: CheckDeps,
  tenantId: string,
  address: string,
  graphToken: AppToken | undefined,
  setup: ExchangeSetupValues | undefined,
  consentUrl: string | null,
): Promise<Check & { readonly cause?: 'noMailbox' }> {
  const name = `mailbox:${address}`;
  if (!graphToken)
    return {
      name,
      ok: false,
      detail: 'Not probed: there is no Microsoft Graph token (see the token checks).',
      remediation: 'Fix the Microsoft Graph token check first.',
    };
  let result: MailboxProbe;
  try {
    result = await deps.graph.probeMailbox(tenantId, address);
  } catch (err) {
    if (!isExternalFailure(err)) throw err;
    return { name, ...graphFailure(err, 'the mailbox') };
  }
  switch (result.result) {
    case 'reachable':
      return {
        name,
        ok: true,
        detail: "Reachable: Microsoft Graph opened the inbox with the vendor application's token.",
        remediation: null,
      };
    case 'not_found':
      return {
        name,
        cause: 'noMailbox',
        ok: false,
        detail:
          result.code === 'MailboxNotEnabledForRESTAPI'
            ? `No such mailbox: the user exists but has no Exchange Online mailbox (${result.code}).`
            : `No such mailbox: no user or mailbox with this address in the tenant (${result.code ?? 'not found'}).`,
        remediation:
          'Check the address (a typing error, or the mailbox lives in another tenant); a user needs an Exchange Online licence to have a mailbox.',
      };
    case 'access_denied': {
      // Graph answers ErrorAccessDenied both without a Mail permission and for a mailbox that an application
      // access policy or RBAC scope leaves out (FACTS.md §6.4); the token's roles tell which (port.ts).
      if (!graphToken.roles.some((r) => MAIL_READ_ROLES.includes(r)))
        return {
          name,
          ok: false,
          detail: `Access denied: the vendor application has no Mail permission in Microsoft Graph (none of ${MAIL_READ_ROLES.join(', ')}), so Graph cannot open any mailbox. This says nothing about IMAP/POP/SMTP, which Exchange gates by mailbox permission.`,
          remediation: consentUrl
            ? `If the PBX uses Microsoft Graph for mail, the consent must include Mail.ReadWrite: open this consent link and approve: ${consentUrl}`
            : 'If the PBX uses Microsoft Graph for mail, the consent must include Mail.ReadWrite (profile graph-mail).',
        };
      return {
        name,
        ok: false,
        detail: `Access denied by Exchange Online (${result.code ?? 'ErrorAccessDenied'}): the application holds a Mail permission, so an application access policy or an RBAC for Applications scope leaves this mailbox out.`,
        remediation: setup
          ? `An Exchange administrator runs, in Exchange Online PowerShell:\n${mailboxAccessCommands(setup, address)}`
          : 'An Exchange administrator must include this mailbox in the application access policy or RBAC scope of the vendor application.',
      };
    }
  }
}
