/**
 * The Exchange Online PowerShell a customer's Exchange administrator runs so that the vendor's app can open
 * mailboxes over IMAP, POP and SMTP (SPEC.md `GET /api/tenants/{tenantId}/exchange-setup.ps1`; FACTS.md §6.2):
 * IMAP/POP/SMTP are gated not by the Entra consent alone but by an Exchange service principal and a mailbox
 * permission (FACTS.md §13). Filled in with the tenant's real values: the app id of the app the broker uses for the
 * tenant ({@link exchangeAppOf}: the tenant's own app where it brought one, else the home app), and the object id of
 * that same app's *enterprise application* (service principal) in the tenant, read from Graph, never the app
 * registration's (FACTS.md §6.2 step 3, §13). Every value is written with {@link psQuote}, though callers validate
 * them too.
 * @module
 */
import { EntraRefused, EntraUnavailable } from '../adapters/entra/port.js';
import {
  GraphRefused,
  GraphUnavailable,
  type Directory,
  type ServicePrincipal,
} from '../adapters/graph/port.js';
import type { Profile } from '../profiles/profiles.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { psCommentText, psQuote } from './powershell.js';

/** What the tenant's profiles ask of Exchange Online. */
export interface ExchangeNeeds {
  /** IMAP or POP: the app signs in to mailboxes (FACTS.md §6.2 step 4: FullAccess). */
  readonly mailboxAccess: boolean;
  /** SMTP: the app sends as mailboxes (FACTS.md §6.2 step 5: SendAs; also FullAccess, step 4). */
  readonly sendAs: boolean;
  /** Protocols named, for words: e.g. ["IMAP", "SMTP"]. */
  readonly protocols: readonly string[];
  /** RBAC for Applications roles that can scope the app's Graph/EWS permissions (FACTS.md §6.5). */
  readonly rbacRoles: readonly string[];
}

const PROTOCOL_ROLES: Readonly<Record<string, string>> = {
  'IMAP.AccessAsApp': 'IMAP',
  'POP.AccessAsApp': 'POP',
  'SMTP.SendAsApp': 'SMTP',
};

/**
 * Exchange RBAC for Applications role of an Entra application permission: "Application <permission>"
 * (FACTS.md §6.5: `-Role "Application Mail.Read"`); EWS `full_access_as_app` is "Application EWS.AccessAsApp"
 * (Microsoft's application-rbac role list, not re-read here: **unverified**). IMAP/POP have no RBAC role (§6.5).
 */
function rbacRoleOf(value: string): string | undefined {
  if (value === 'full_access_as_app') return 'Application EWS.AccessAsApp';
  if (/^(Mail|MailboxSettings|Calendars|Contacts)\.[A-Za-z.]+$/.test(value)) return `Application ${value}`;
  return undefined;
}

export function exchangeNeeds(profiles: readonly Profile[]): ExchangeNeeds {
  const values = new Set(profiles.flatMap((p) => p.roles.map((r) => r.value)));
  const protocols = Object.entries(PROTOCOL_ROLES)
    .filter(([role]) => values.has(role))
    .map(([, name]) => name);
  return {
    mailboxAccess: protocols.length > 0,
    sendAs: values.has('SMTP.SendAsApp'),
    protocols,
    rbacRoles: [...new Set([...values].map(rbacRoleOf).filter((r) => r !== undefined))].sort(),
  };
}

/** The tenant's real values, as the script needs them. */
export interface ExchangeSetupValues {
  readonly tenantId: string;
  readonly tenantName: string | null;
  /** `Connect-ExchangeOnline -Organization`: the initial `*.onmicrosoft.com` domain, another verified one, or the id. */
  readonly organization: string;
  /** The application (client) id of the app the broker uses for the tenant ({@link exchangeAppOf}). */
  readonly appId: string;
  /** The object id of that same app's enterprise application (service principal) in the tenant. */
  readonly servicePrincipalId: string;
  readonly servicePrincipalName: string;
  readonly mailboxes: readonly string[];
  readonly needs: ExchangeNeeds;
}

/**
 * The commands, with a comment citing the source of each. Scoping to the listed mailboxes runs only when
 * `$LimitToListedMailboxes` is set (the script's switch; unset when pasted into a console), so the commands do
 * exactly what they say when run as they are. `script` adds the parameter block and stops at the first error;
 * without it the text is for pasting into an interactive session, whose preferences it leaves alone.
 */
export function exchangeSetupCommands(v: ExchangeSetupValues, options: { script?: boolean } = {}): string {
  const sp = psQuote(v.servicePrincipalId);
  const out: string[] = [
    ...(options.script
      ? [
          'param(',
          "    # Also limit the app's Graph / EWS permissions to the mailboxes below (RBAC for Applications, FACTS.md §6.5).",
          '    [switch] $LimitToListedMailboxes',
          ')',
          "$ErrorActionPreference = 'Stop'",
          '',
        ]
      : []),
    '# 1. Sign in to Exchange Online as an administrator with the Organization Management role (FACTS.md §6.2 step 2).',
    '#    Once per computer, if the module is missing: Install-Module -Name ExchangeOnlineManagement',
    `Connect-ExchangeOnline -Organization ${psQuote(v.organization)}`,
    '',
    "# 2. Register the app's enterprise application as an Exchange service principal (FACTS.md §6.2 step 3).",
    '#    -AppId and -ObjectId are those of the same enterprise application, the one the PBX tokens come from.',
    "#    -ObjectId is the Enterprise application (service principal) object id, not the App registration's;",
    '#    -ServiceId is deprecated (FACTS.md §13). Skipped when it is registered already.',
    `if (-not (Get-ServicePrincipal | Where-Object { $_.AppId -eq ${psQuote(v.appId)} })) {`,
    `    New-ServicePrincipal -AppId ${psQuote(v.appId)} -ObjectId ${sp} -DisplayName ${psQuote(v.servicePrincipalName)}`,
    '}',
  ];
  if (v.needs.mailboxAccess) {
    out.push(
      '',
      `# 3. Let the app open each mailbox over ${v.needs.protocols.join('/')} (FACTS.md §6.2 step 4).`,
    );
    if (v.mailboxes.length === 0) {
      out.push(
        '#    No mailboxes were given. For each mailbox the PBX uses, run (with its address):',
        `#    Add-MailboxPermission -Identity <mailbox> -User ${sp} -AccessRights FullAccess`,
      );
    }
    for (const m of v.mailboxes)
      out.push(`Add-MailboxPermission -Identity ${psQuote(m)} -User ${sp} -AccessRights FullAccess`);
  }
  if (v.needs.sendAs) {
    out.push('', '# 4. Let the app send as each mailbox over SMTP (FACTS.md §6.2 step 5).');
    if (v.mailboxes.length === 0)
      out.push(
        `#    For each mailbox: Add-RecipientPermission <mailbox> -AccessRights SendAs -Trustee ${sp}`,
      );
    for (const m of v.mailboxes)
      out.push(`Add-RecipientPermission ${psQuote(m)} -AccessRights SendAs -Trustee ${sp}`);
  }
  if (v.needs.rbacRoles.length > 0 && v.mailboxes.length > 0) {
    const scope = psQuote(`${v.servicePrincipalName.slice(0, 40)} mailboxes`);
    // OPath: text values in double quotes (the addresses contain no double quote: mailbox-address.ts), the
    // whole filter a single-quoted PowerShell string.
    const filter = v.mailboxes.map((m) => `PrimarySmtpAddress -eq "${m}"`).join(' -or ');
    out.push(
      '',
      "# 5. Optional ($LimitToListedMailboxes): scope the app's Graph / EWS roles to these mailboxes with RBAC for",
      '#    Applications (FACTS.md §6.5; it replaces application access policies, §6.4). Entra permissions and RBAC',
      '#    grants add up: a tenant-wide Entra grant of the same permission still applies (FACTS.md §6.5).',
      'if ($LimitToListedMailboxes) {',
      `    New-ManagementScope -Name ${scope} -RecipientRestrictionFilter ${psQuote(filter)}`,
      ...v.needs.rbacRoles.map(
        (role) =>
          `    New-ManagementRoleAssignment -Role ${psQuote(role)} -App ${sp} -CustomResourceScope ${scope}`,
      ),
      '    # What the app may do on each mailbox now (FACTS.md §6.5: Test-ServicePrincipalAuthorization).',
      ...v.mailboxes.map(
        (m) => `    Test-ServicePrincipalAuthorization -Identity ${sp} -Resource ${psQuote(m)}`,
      ),
      '}',
    );
  }
  out.push(
    '',
    '# Check: the service principal is listed (FACTS.md §6.2 step 6).',
    'Get-ServicePrincipal | fl',
  );
  return out.join('\n');
}

/** The commands for one mailbox that Graph refused because a policy or RBAC scope leaves it out. */
export function mailboxAccessCommands(v: ExchangeSetupValues, mailbox: string): string {
  const sp = psQuote(v.servicePrincipalId);
  const m = psQuote(mailbox);
  const lines = [
    `Connect-ExchangeOnline -Organization ${psQuote(v.organization)}`,
    '# Which application access policy applies to this mailbox (FACTS.md §6.4); a RestrictAccess policy must',
    "# include it (add it to the policy's group), a DenyAccess policy must not:",
    `Test-ApplicationAccessPolicy -Identity ${m} -AppId ${psQuote(v.appId)}`,
    `Get-ApplicationAccessPolicy | Where-Object { $_.AppId -eq ${psQuote(v.appId)} }`,
    '# Or, with RBAC for Applications (FACTS.md §6.5), what the app may do on it:',
    `Test-ServicePrincipalAuthorization -Identity ${sp} -Resource ${m}`,
  ];
  if (v.needs.rbacRoles.length > 0) {
    const scope = psQuote(`${v.servicePrincipalName.slice(0, 40)} ${mailbox}`.slice(0, 60));
    lines.push(
      '# To grant it with RBAC for Applications (the app must be registered: New-ServicePrincipal, FACTS.md §6.2):',
      `New-ManagementScope -Name ${scope} -RecipientRestrictionFilter ${psQuote(`PrimarySmtpAddress -eq "${mailbox}"`)}`,
      ...v.needs.rbacRoles.map(
        (role) =>
          `New-ManagementRoleAssignment -Role ${psQuote(role)} -App ${sp} -CustomResourceScope ${scope}`,
      ),
    );
  }
  lines.push('# Changes can take more than an hour to reach Microsoft Graph (FACTS.md §6.4).');
  return lines.join('\n');
}

/** The downloadable script: a header saying what it is, then {@link exchangeSetupCommands}. */
export function exchangeSetupScript(
  v: ExchangeSetupValues,
  meta: { readonly generatedAt: Date; readonly brokerUrl: string },
): string {
  const name = v.tenantName ? `${psCommentText(v.tenantName, 120)} (${v.tenantId})` : v.tenantId;
  const what = v.needs.mailboxAccess
    ? `signs it in to the listed mailboxes over ${v.needs.protocols.join('/')} with OAuth`
    : 'lets Exchange Online recognise it';
  const header = [
    `# Exchange Online setup for ${psCommentText(v.servicePrincipalName, 120)}`,
    `# Tenant:    ${name}`,
    `# Generated: ${meta.generatedAt.toISOString()} by Consent Broker (${psCommentText(meta.brokerUrl)})`,
    '#',
    `# What it does: registers the enterprise application ${psCommentText(v.servicePrincipalName, 120)}`,
    `# (app id ${v.appId}, object id ${v.servicePrincipalId}) as an Exchange Online service principal, so that`,
    `# the app ${what}, and grants it these mailboxes:`,
    ...(v.mailboxes.length ? v.mailboxes.map((m) => `#   ${psCommentText(m)}`) : ['#   (none given)']),
    '# Run it as an Exchange administrator. Run it with -LimitToListedMailboxes to also limit the app to them.',
    '',
  ];
  return `${header.join('\n')}${exchangeSetupCommands(v, { script: true })}\n`;
}

// ----------------------------------------------------------------------------------------- the values

/** The app the broker signs in as for a tenant, which Exchange Online must know. */
export interface ExchangeApp {
  readonly appId: string;
  /** The tenant's own app registration ("bring your own app"), not the vendor's home app. */
  readonly ownApp: boolean;
  /** For words and for a service principal without a display name. */
  readonly label: string;
}

/**
 * The tenant's own app where it brought one (src/credentials/tenant-app.ts routes its tokens there), else the home
 * app. Exchange's New-ServicePrincipal takes the `-AppId` and the `-ObjectId` of the *same* enterprise application:
 * "The tenant admin can find the service principal identifiers referenced above in your AAD application's
 * enterprise application instance on the tenant" (X-OAUTH, "Register service principals in Exchange",
 * https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
 * The home app's id with the tenant app's object id registers nothing that the tokens the broker vends (the
 * tenant app's, `appid` = its client id) are checked against, and IMAP/POP/SMTP then fail to authenticate.
 */
export function exchangeAppOf(
  tenant: Pick<TenantRecord, 'appCredential'>,
  homeAppClientId: string,
): ExchangeApp {
  const own = tenant.appCredential?.clientId;
  return own
    ? { appId: own, ownApp: true, label: "the tenant's own application" }
    : { appId: homeAppClientId, ownApp: false, label: 'the vendor application' };
}

/** Where the service principal's object id came from. */
export type ServicePrincipalSource = 'graph' | 'tenant-record';

export type ResolvedServicePrincipal =
  | {
      readonly found: true;
      readonly id: string;
      readonly displayName: string | null;
      readonly accountEnabled: boolean | null;
      readonly source: ServicePrincipalSource;
    }
  | { readonly found: false; readonly reason: 'not_consented' | 'unreadable' };

/**
 * The enterprise application of `appId` (the app the broker uses for the tenant, {@link exchangeAppOf}) in the
 * tenant: read from Graph with that app's own token (an app may read its own service principal without any
 * permission, FACTS.md §7); when Graph cannot answer, the id recorded from the `oid` of the tenant's app-only
 * tokens (SPEC.md), which are that same app's. Graph answering "none" means the consent is gone.
 */
export async function resolveServicePrincipal(
  graph: Pick<Directory, 'servicePrincipalByAppId'>,
  tenant: Pick<TenantRecord, 'tenantId' | 'servicePrincipalId'>,
  appId: string,
): Promise<ResolvedServicePrincipal> {
  let sp: ServicePrincipal | undefined;
  try {
    sp = await graph.servicePrincipalByAppId(tenant.tenantId, appId);
  } catch (err) {
    if (!isExternalFailure(err)) throw err;
    // Graph or the token for it failed: the recorded id is the same object, read from the token's `oid`.
    return tenant.servicePrincipalId
      ? {
          found: true,
          id: tenant.servicePrincipalId,
          displayName: null,
          accountEnabled: null,
          source: 'tenant-record',
        }
      : { found: false, reason: 'unreadable' };
  }
  if (!sp) return { found: false, reason: 'not_consented' };
  return {
    found: true,
    id: sp.id,
    displayName: sp.displayName || null,
    accountEnabled: sp.accountEnabled,
    source: 'graph',
  };
}

/** `Connect-ExchangeOnline -Organization`: the initial `*.onmicrosoft.com` domain where known (FACTS.md §6.2). */
export function organizationFor(
  tenantId: string,
  domains: readonly { readonly name: string; readonly isInitial?: boolean }[],
): string {
  return (
    domains.find((d) => d.isInitial)?.name ??
    domains.find((d) => /\.onmicrosoft\.com$/i.test(d.name))?.name ??
    domains[0]?.name ??
    tenantId
  );
}

/** A failure of Graph, or of Entra issuing the token for it: what a check reports instead of failing. */
export function isExternalFailure(
  err: unknown,
): err is GraphRefused | GraphUnavailable | EntraRefused | EntraUnavailable {
  return (
    err instanceof GraphRefused ||
    err instanceof GraphUnavailable ||
    err instanceof EntraRefused ||
    err instanceof EntraUnavailable
  );
}
