/**
 * The Exchange Online PowerShell a customer's Exchange administrator runs so that the vendor's app can open
 * mailboxes over IMAP, POP and SMTP (SPEC.md `GET /api/tenants/{tenantId}/exchange-setup.ps1`): those are gated not by
 * the Entra consent alone but by an Exchange service principal and a mailbox permission
 * (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
 * It also limits the app's Graph / EWS permissions to the listed mailboxes (RBAC for Applications or an application
 * access policy, `-Scoping`) and, for EWS, puts the app on the tenant's EWS allow-list ({@link ewsAllowListSteps}).
 * Filled in with the tenant's real values: the app id of the app the broker uses for the tenant
 * ({@link exchangeAppOf}: the tenant's own app where it brought one, else the home app), and the object id of that
 * same app's *enterprise application* (service principal) in the tenant, read from Graph, never the app
 * registration's. The administrator signs in interactively (`-AdminUpn`); the script can run again and again: each
 * step looks first (src/support/exchange-setup-steps.ts). Every cmdlet and parameter it uses is in
 * src/support/exchange-cmdlets.ts with its reference page; every value is written with {@link psQuote}.
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
import type { BundleApp, BundleApps } from '../credentials/bundle-apps.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import {
  connectStep,
  environmentParameter,
  mailboxAccessStep,
  mailboxFilter,
  resultStep,
  say,
  scopeNameOf,
  SCOPING_PARAMETER,
  scopingStep,
  sendAsStep,
  servicePrincipalStep,
} from './exchange-setup-steps.js';
import { psCommentText, psQuote } from './powershell.js';

/** What the tenant's profiles ask of Exchange Online. */
export interface ExchangeNeeds {
  /** IMAP, POP or SMTP: the app signs in to mailboxes, which needs FullAccess on each. */
  readonly mailboxAccess: boolean;
  /** SMTP: the app may send as an address it does not sign in to, which needs SendAs on that address. */
  readonly sendAs: boolean;
  /** EWS (`full_access_as_app`): the tenant must allow the app on its EWS allow-list ({@link ewsAllowListSteps}). */
  readonly ews: boolean;
  /** Protocols named, for words: e.g. ["IMAP", "SMTP"]. */
  readonly protocols: readonly string[];
  /** RBAC for Applications roles that can scope the app's Graph/EWS permissions to mailboxes. */
  readonly rbacRoles: readonly string[];
}

const PROTOCOL_ROLES: Readonly<Record<string, string>> = {
  'IMAP.AccessAsApp': 'IMAP',
  'POP.AccessAsApp': 'POP',
  'SMTP.SendAsApp': 'SMTP',
};

/**
 * Exchange RBAC for Applications role of an Entra application permission: "Application <permission>"
 * (https://learn.microsoft.com/exchange/permissions-exo/application-rbac, e.g. `-Role "Application Mail.Read"`);
 * EWS `full_access_as_app` is "Application EWS.AccessAsApp", the one EWS row of that page's "Supported application
 * roles" table (read here through copies of the table, not the page itself). IMAP/POP/SMTP have no role.
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
    ews: values.has('full_access_as_app'),
    protocols,
    rbacRoles: [...new Set([...values].map(rbacRoleOf).filter((r) => r !== undefined))].sort(),
  };
}

/** The tenant's real values, as the script needs them. */
export interface ExchangeSetupValues {
  readonly tenantId: string;
  readonly tenantName: string | null;
  /** The initial `*.onmicrosoft.com` domain, another verified one, or the id: only for the example admin UPN. */
  readonly organization: string;
  /** The application (client) id of the app the broker uses for the tenant ({@link exchangeAppOf}). */
  readonly appId: string;
  /** The object id of that same app's enterprise application (service principal) in the tenant. */
  readonly servicePrincipalId: string;
  readonly servicePrincipalName: string;
  readonly mailboxes: readonly string[];
  readonly needs: ExchangeNeeds;
  /** The cloud's `Connect-ExchangeOnline -ExchangeEnvironmentName` (src/cloud/clouds.ts); O365Default: the public cloud. */
  readonly exchangeEnvironment: string;
}

/**
 * How the script limits the app's Graph / EWS permissions to the listed mailboxes (the route's `scoping` query):
 * RBAC for Applications, Microsoft's recommendation and the default, or an application access policy.
 */
export type ExchangeScoping = 'rbac' | 'accessPolicy';
export const EXCHANGE_SCOPINGS: readonly ExchangeScoping[] = ['rbac', 'accessPolicy'];

export interface ExchangeSetupOptions {
  /** A script file: a parameter block, and it stops at the first error. Else text to paste into a console. */
  readonly script?: boolean;
  /** The `-Scoping` default. */
  readonly scoping?: ExchangeScoping;
}

const EWS_RETIREMENT =
  'https://techcommunity.microsoft.com/blog/exchange/exchange-online-ews-your-time-is-almost-up/4492361';
const EWS_ALLOWED_APP_IDS =
  'https://techcommunity.microsoft.com/blog/exchange/introducing-ewsallowedappids-preparing-for-the-final-phase-of-ews-retirement/4529471';

/**
 * The EWS allow-list step for `appId`, the same text in the script and in a check's remediation. EWSAllowedAppIDs is
 * one comma-separated string that Set-OrganizationConfig replaces whole, and Get-OrganizationConfig returns only with
 * -RetrieveEwsOperationAccessPolicy (https://learn.microsoft.com/powershell/module/exchangepowershell/set-organizationconfig,
 * -EwsAllowedAppIDs, Example 7; EWS_ALLOWED_APP_IDS), so the step reads it, adds the app id only if absent and
 * writes back the union. EwsEnabled: $false blocks all EWS; $true allows only the listed apps (since October 2026 an
 * empty list with $true blocks all: EWS_ALLOWED_APP_IDS); $null ignores the list, and is being set to $false tenant
 * by tenant (EWS_RETIREMENT). So the step sets it to $true unless it is already.
 */
export function ewsAllowListSteps(appId: string, step?: number): string {
  const id = psQuote(appId);
  return [
    `# ${step === undefined ? '' : `${step}. `}EWS: since 1 October 2026 Exchange Online blocks EWS unless the tenant allows it: EWSEnabled set to True and`,
    "# the app's id on the tenant's EWS allow-list (EWSAllowedAppIDs). On 1 April 2027 EWS in Exchange Online is",
    '# switched off for good, with no exceptions; the PBX must use Microsoft Graph by then.',
    `# (${EWS_RETIREMENT};`,
    `# ${EWS_ALLOWED_APP_IDS};`,
    '# https://learn.microsoft.com/powershell/module/exchangepowershell/set-organizationconfig, -EwsAllowedAppIDs.)',
    '# The list is one comma-separated string that Set-OrganizationConfig replaces whole: this keeps every id on it.',
    '$ewsConfig = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy',
    "$ewsAllowed = @((@($ewsConfig.EwsAllowedAppIDs) -join ',') -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })",
    `if ($ewsAllowed -contains ${id}) {`,
    `    ${say(`EWS allow-list entry for app ${appId}: already present, left as it is.`)}`,
    '} else {',
    `    Set-OrganizationConfig -EwsAllowedAppIDs ((@($ewsAllowed) + ${id}) -join ',') -Confirm:$false`,
    `    Write-Host (${psQuote(`EWS allow-list entry for app ${appId}: added, keeping the `)} + $ewsAllowed.Count + ' already listed.')`,
    '}',
    'if ($ewsConfig.EwsEnabled -eq $true) {',
    `    ${say('EWSEnabled True: already present, left as it is.')}`,
    '} else {',
    '    # $false blocks all EWS; not set ($null) is being turned into $false by Microsoft. True allows only the listed apps.',
    '    Set-OrganizationConfig -EwsEnabled $true -Confirm:$false',
    `    Write-Host ('EWSEnabled set to True (was ' + $(if ($null -eq $ewsConfig.EwsEnabled) { 'not set' } else { 'False' }) + '); only the apps on the allow-list may use EWS.')`,
    '}',
  ].join('\n');
}

/**
 * The commands, each step guarded so that a second run changes nothing. With `script`, a parameter block
 * (`-AdminUpn`, and `-Scoping`, `-PolicyGroup`, `-SendAsAddresses` where they apply) and `$ErrorActionPreference =
 * 'Stop'`; without, text for pasting into an interactive session, which asks for the admin's UPN and leaves the
 * session's preferences alone.
 */
export function exchangeSetupCommands(v: ExchangeSetupValues, options: ExchangeSetupOptions = {}): string {
  const scopable = v.needs.rbacRoles.length > 0;
  const scoping = SCOPING_PARAMETER[options.scoping ?? 'rbac'];
  const example = /\./.test(v.organization) ? `admin@${v.organization}` : 'admin@contoso.onmicrosoft.com';
  const out: string[] = options.script
    ? [
        '[CmdletBinding()]',
        'param(',
        `    # The Exchange administrator to sign in as, e.g. ${example} (Connect-ExchangeOnline -UserPrincipalName).`,
        '    [Parameter(Mandatory)] [string] $AdminUpn' + (scopable || v.needs.sendAs ? ',' : ''),
        ...(scopable
          ? [
              "    # How to limit the app's Graph / EWS permissions to the listed mailboxes: Rbac (RBAC for Applications,",
              "    # Microsoft's recommendation), AccessPolicy (an application access policy for -PolicyGroup), or None.",
              `    [ValidateSet('Rbac', 'AccessPolicy', 'None')] [string] $Scoping = ${psQuote(scoping)},`,
              '    # -Scoping AccessPolicy: the address of a mail-enabled security group for these mailboxes.',
              '    [string] $PolicyGroup' + (v.needs.sendAs ? ',' : ''),
            ]
          : []),
        ...(v.needs.sendAs
          ? [
              '    # SMTP: other addresses the app sends as, without signing in to them (SendAs).',
              '    [string[]] $SendAsAddresses = @()',
            ]
          : []),
        ')',
        "$ErrorActionPreference = 'Stop'",
        '',
      ]
    : [
        `$AdminUpn = Read-Host -Prompt ${psQuote(`Exchange administrator to sign in as (e.g. ${example})`)}`,
        ...(scopable
          ? [
              `$Scoping = ${psQuote(scoping)}  # or 'AccessPolicy' (then set $PolicyGroup to a mail-enabled security group), or 'None'`,
              "$PolicyGroup = ''",
            ]
          : []),
        ...(v.needs.sendAs ? ['$SendAsAddresses = @()  # SMTP: other addresses the app sends as'] : []),
        '',
      ];
  out.push(...connectStep(v.exchangeEnvironment), '', ...servicePrincipalStep(v));
  let n = 3;
  if (v.needs.mailboxAccess) out.push('', ...mailboxAccessStep(v, n++));
  if (v.needs.sendAs) out.push('', ...sendAsStep(v, n++));
  if (scopable) out.push('', ...scopingStep(v, n++));
  if (v.needs.ews) out.push('', ewsAllowListSteps(v.appId, n++));
  out.push('', ...resultStep(v, n, scopable));
  return out.join('\n');
}

/** The commands for one mailbox that Graph refused because a policy or RBAC scope leaves it out. */
export function mailboxAccessCommands(v: ExchangeSetupValues, mailbox: string): string {
  const sp = psQuote(v.servicePrincipalId);
  const m = psQuote(mailbox);
  const lines = [
    `Connect-ExchangeOnline -UserPrincipalName (Read-Host -Prompt 'Exchange administrator to sign in as')${environmentParameter(v.exchangeEnvironment)}`,
    '# Which application access policy applies to this mailbox; a RestrictAccess policy must include it (add it to',
    "# the policy's group), a DenyAccess policy must not (https://learn.microsoft.com/powershell/module/exchangepowershell/new-applicationaccesspolicy):",
    `Test-ApplicationAccessPolicy -Identity ${m} -AppId ${psQuote(v.appId)}`,
    `Get-ApplicationAccessPolicy | Where-Object { $_.AppId -contains ${psQuote(v.appId)} }`,
    '# Or, with RBAC for Applications (https://learn.microsoft.com/exchange/permissions-exo/application-rbac), what the app may do on it:',
    `Test-ServicePrincipalAuthorization -Identity ${sp} -Resource ${m}`,
  ];
  if (v.needs.rbacRoles.length > 0) {
    const scope = psQuote(`${scopeNameOf(v.appId)} ${mailbox}`.slice(0, 64));
    lines.push(
      '# To grant it with RBAC for Applications (the app must be registered: New-ServicePrincipal):',
      `New-ManagementScope -Name ${scope} -RecipientRestrictionFilter ${psQuote(mailboxFilter([mailbox]))} -Confirm:$false`,
      ...v.needs.rbacRoles.map(
        (role) =>
          `New-ManagementRoleAssignment -Role ${psQuote(role)} -App ${sp} -CustomResourceScope ${scope} -Confirm:$false`,
      ),
    );
  }
  lines.push('# Changes can take more than an hour to reach Microsoft Graph (FACTS.md §6.4).');
  return lines.join('\n');
}

/** The downloadable script: a header saying what it is and how to run it, then {@link exchangeSetupCommands}. */
export function exchangeSetupScript(
  v: ExchangeSetupValues,
  meta: { readonly generatedAt: Date; readonly brokerUrl: string; readonly scoping?: ExchangeScoping },
): string {
  const name = v.tenantName ? `${psCommentText(v.tenantName, 120)} (${v.tenantId})` : v.tenantId;
  const what = v.needs.mailboxAccess
    ? `signs it in to the listed mailboxes over ${v.needs.protocols.join('/')} with OAuth`
    : 'lets Exchange Online recognise it';
  const example = /\./.test(v.organization) ? `admin@${v.organization}` : 'admin@contoso.onmicrosoft.com';
  const file = `exchange-setup-${v.tenantId}.ps1`;
  const scopable = v.needs.rbacRoles.length > 0;
  const header = [
    `# Exchange Online setup for ${psCommentText(v.servicePrincipalName, 120)}`,
    `# Tenant:    ${name}`,
    `# Generated: ${meta.generatedAt.toISOString()} by Consent Broker (${psCommentText(meta.brokerUrl)})`,
    '#',
    `# What it does: registers the enterprise application ${psCommentText(v.servicePrincipalName, 120)}`,
    `# (app id ${v.appId}, object id ${v.servicePrincipalId}) as an Exchange Online service principal, so that`,
    `# the app ${what}, and grants it these mailboxes:`,
    ...(v.mailboxes.length ? v.mailboxes.map((m) => `#   ${psCommentText(m)}`) : ['#   (none given)']),
    ...(v.needs.ews
      ? ["# It also puts the app on the tenant's EWS allow-list, keeping the apps already on it."]
      : []),
    '#',
    '# Run it in PowerShell with the ExchangeOnlineManagement module, naming the Exchange administrator to sign in as:',
    `#   .\\${file} -AdminUpn ${example}`,
    ...(scopable
      ? [
          `#   .\\${file} -AdminUpn ${example} -Scoping AccessPolicy -PolicyGroup pbx-mailboxes@example.com`,
          `# -Scoping (default ${SCOPING_PARAMETER[meta.scoping ?? 'rbac']}) limits the app's Graph / EWS permissions to the listed mailboxes.`,
        ]
      : []),
    '# It signs in interactively as that administrator (Connect-ExchangeOnline -UserPrincipalName), not with',
    '# -Organization, which is for app-only sign-in with a certificate or a managed identity.',
    '# It is safe to run again: each step looks first and leaves what it finds ("already present, left as it is").',
    '',
    '',
  ];
  return `${header.join('\n')}${exchangeSetupCommands(v, { script: true, scoping: meta.scoping })}\n`;
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

/** Office 365 Exchange Online's application id, the same in every cloud (FACTS.md §15). */
const EXCHANGE_ONLINE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';

/**
 * The bundle app whose service principal Exchange Online must know for the tenant: that of its first application
 * profile on Exchange Online (the home app when it has none). With profiles of two bundles on Exchange (e.g.
 * IMAP in one, EWS in another) the first one's: the script registers one service principal.
 */
export function exchangeBundleApp(
  apps: Pick<BundleApps, 'forProfile' | 'forProfiles' | 'home'>,
  profiles: readonly Profile[],
): BundleApp {
  const first = profiles.find((p) => p.kind === 'application' && p.resource.appId === EXCHANGE_ONLINE_APP_ID);
  return first
    ? apps.forProfile(first.name)
    : (apps.forProfiles(profiles.map((p) => p.name))[0] ?? apps.home);
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

/** The tenant's initial `*.onmicrosoft.com` domain where known, else another, else the id: the example admin UPN's. */
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
