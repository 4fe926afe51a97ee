/**
 * The steps of the Exchange PowerShell (src/support/exchange-setup.ts), each written so that running the script a
 * second time changes nothing: every step first looks for what it would create and, finding it, says so
 * ("… already present, left as it is") instead of creating it again. Every cmdlet and parameter used is in
 * src/support/exchange-cmdlets.ts with the URL of its reference page, and every value goes through
 * {@link psQuote}. Each function answers lines, indented by the caller.
 * @module
 */
import type { ExchangeScoping, ExchangeSetupValues } from './exchange-setup.js';
import { psQuote } from './powershell.js';

/** `Write-Host` of a fixed text, quoted. */
export const say = (text: string): string => `Write-Host ${psQuote(text)}`;
const present = (what: string): string => say(`${what}: already present, left as it is.`);
const indent = (lines: readonly string[], by = '    '): string[] => lines.map((l) => (l ? by + l : l));

/** The script's `-Scoping` value for the HTTP route's `scoping` query value. */
export const SCOPING_PARAMETER: Readonly<Record<ExchangeScoping, string>> = {
  rbac: 'Rbac',
  accessPolicy: 'AccessPolicy',
};

/** The name of the management scope (RBAC for Applications) the script creates: stable for the app. */
export const scopeNameOf = (appId: string): string => `Mailboxes of app ${appId}`;
/** A role assignment's name: at most 64 characters (New-ManagementRoleAssignment -Name), stable for app and role. */
export const assignmentNameOf = (appId: string, role: string): string =>
  `${role} for app ${appId.slice(0, 8)}`.slice(0, 64);

/**
 * OPATH for "one of these mailboxes". Text values in single quotes, a single quote inside doubled
 * (https://learn.microsoft.com/powershell/module/exchangepowershell/new-managementscope, -RecipientRestrictionFilter:
 * "Enclose text values and variables in single quotation marks"); the whole is then a PowerShell literal via psQuote.
 */
export function mailboxFilter(mailboxes: readonly string[]): string {
  return mailboxes.map((m) => `PrimarySmtpAddress -eq '${m.replace(/'/g, "''")}'`).join(' -or ');
}

/**
 * ` -ExchangeEnvironmentName …` for a national cloud, nothing for the public one (O365Default is the default:
 * https://learn.microsoft.com/powershell/module/exchangepowershell/connect-exchangeonline, -ExchangeEnvironmentName).
 */
export function environmentParameter(exchangeEnvironment: string): string {
  return exchangeEnvironment === 'O365Default' ? '' : ` -ExchangeEnvironmentName ${exchangeEnvironment}`;
}

/** 1. Sign in, interactively, as the administrator named by `$AdminUpn`, in the broker's cloud. */
export function connectStep(exchangeEnvironment: string): string[] {
  return [
    '# 1. Sign in to Exchange Online as an administrator with the Organization Management role, interactively',
    '#    (-UserPrincipalName: https://learn.microsoft.com/powershell/module/exchangepowershell/connect-exchangeonline;',
    '#    -Organization is only for app-only sign-in with a certificate or a managed identity, same page).',
    ...(exchangeEnvironment === 'O365Default'
      ? []
      : [
          `#    -ExchangeEnvironmentName ${exchangeEnvironment}: this tenant is in a national cloud (same page).`,
        ]),
    '#    Once per computer, if the module is missing: Install-Module -Name ExchangeOnlineManagement',
    `Connect-ExchangeOnline -UserPrincipalName $AdminUpn${environmentParameter(exchangeEnvironment)} -ShowBanner:$false`,
  ];
}

/**
 * 2. The Exchange service principal: `-AppId` and `-ObjectId` of the same enterprise application
 * (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth,
 * "Register service principals in Exchange"). Found by app id; one registered with another object id is an error
 * the administrator must resolve, as New-ServicePrincipal would refuse the app id twice.
 */
export function servicePrincipalStep(v: ExchangeSetupValues): string[] {
  const appId = psQuote(v.appId);
  const sp = psQuote(v.servicePrincipalId);
  const what = `Service principal of ${v.servicePrincipalName} (app id ${v.appId})`;
  return [
    "# 2. Register the app's enterprise application as an Exchange service principal. -ObjectId is the Enterprise",
    "#    application (service principal) object id, not the App registration's; -ServiceId is deprecated",
    '#    (https://learn.microsoft.com/powershell/module/exchangepowershell/new-serviceprincipal).',
    '#    Get-ServicePrincipal -Identity takes the AppId; an unknown one may answer every service principal, hence the',
    '#    filter (https://learn.microsoft.com/powershell/module/exchangepowershell/get-serviceprincipal).',
    `$registered = @(Get-ServicePrincipal -Identity ${appId} -ErrorAction SilentlyContinue | Where-Object { $_.AppId -eq ${appId} })`,
    `if ($registered | Where-Object { $_.ObjectId -eq ${sp} }) {`,
    `    ${present(what)}`,
    '} elseif ($registered.Count -gt 0) {',
    `    throw (${psQuote(`${what} is registered with another object id (`)} + ($registered.ObjectId -join ', ') + ${psQuote(`), not ${v.servicePrincipalId}: remove that registration (Remove-ServicePrincipal) and run this again.`)})`,
    '} else {',
    `    New-ServicePrincipal -AppId ${appId} -ObjectId ${sp} -DisplayName ${psQuote(v.servicePrincipalName)} -Confirm:$false | Out-Null`,
    `    ${say(`${what}: registered.`)}`,
    '}',
  ];
}

/** 3. FullAccess on each listed mailbox: what IMAP, POP and SMTP sign-in as the app needs (same X-OAUTH page). */
export function mailboxAccessStep(v: ExchangeSetupValues, n: number): string[] {
  const sp = psQuote(v.servicePrincipalId);
  const out = [
    `# ${n}. Let the app sign in to each mailbox over ${v.needs.protocols.join('/')}: FullAccess for its service principal`,
    '#    (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth,',
    '#    https://learn.microsoft.com/powershell/module/exchangepowershell/add-mailboxpermission).',
  ];
  if (v.mailboxes.length === 0)
    return [
      ...out,
      '#    No mailboxes were given. For each mailbox the PBX uses, run (with its address):',
      `#    Add-MailboxPermission -Identity <mailbox> -User ${sp} -AccessRights FullAccess -Confirm:$false`,
    ];
  for (const m of v.mailboxes) {
    const mq = psQuote(m);
    out.push(
      `if (Get-MailboxPermission -Identity ${mq} -User ${sp} -ErrorAction SilentlyContinue | Where-Object { -not $_.Deny -and ($_.AccessRights -join ',') -match 'FullAccess' }) {`,
      `    ${present(`FullAccess on ${m}`)}`,
      '} else {',
      `    Add-MailboxPermission -Identity ${mq} -User ${sp} -AccessRights FullAccess -Confirm:$false | Out-Null`,
      `    ${say(`FullAccess on ${m}: granted.`)}`,
      '}',
    );
  }
  return out;
}

/**
 * SMTP: a mailbox the app signs in to (FullAccess, step 3) is sent from without more; only an address it sends as
 * *without* signing in to it needs SendAs ("If you're trying to use Client Credential Grant Flow with SendAs, you need
 * to grant SendAs permissions to the sender", X-OAUTH page). So SendAs is only for `$SendAsAddresses`.
 */
export function sendAsStep(v: ExchangeSetupValues, n: number): string[] {
  const sp = psQuote(v.servicePrincipalId);
  return [
    `# ${n}. SMTP: the app sends from each mailbox above with FullAccess alone. Only for another address it sends as`,
    '#    (-SendAsAddresses) does it need SendAs on that address',
    '#    (https://learn.microsoft.com/powershell/module/exchangepowershell/add-recipientpermission).',
    'foreach ($address in $SendAsAddresses) {',
    `    if (Get-RecipientPermission -Identity $address -Trustee ${sp} -AccessRights SendAs -ErrorAction SilentlyContinue) {`,
    `        Write-Host ('SendAs on ' + $address + ': already present, left as it is.')`,
    '    } else {',
    `        Add-RecipientPermission -Identity $address -Trustee ${sp} -AccessRights SendAs -Confirm:$false | Out-Null`,
    `        Write-Host ('SendAs on ' + $address + ': granted.')`,
    '    }',
    '}',
  ];
}

/** RBAC for Applications: a management scope of the listed mailboxes and a role assignment per role. */
function rbacScoping(v: ExchangeSetupValues): string[] {
  const scope = scopeNameOf(v.appId);
  const sp = psQuote(v.servicePrincipalId);
  return [
    '# RBAC for Applications (https://learn.microsoft.com/exchange/permissions-exo/application-rbac): a management',
    "# scope of the mailboxes (New-ManagementScope -RecipientRestrictionFilter) and the app's roles on it",
    '# (New-ManagementRoleAssignment -App <service principal object id> -CustomResourceScope,',
    '# https://learn.microsoft.com/powershell/module/exchangepowershell/new-managementroleassignment). Its grants are',
    '# "independent of the unscoped grants in Microsoft Entra ID" (https://learn.microsoft.com/graph/auth-limit-mailbox-access):',
    '# while the app holds the same permission tenant-wide in Entra ID, that grant still applies.',
    `$scopeFilter = ${psQuote(mailboxFilter(v.mailboxes))}`,
    `$scope = Get-ManagementScope -Identity ${psQuote(scope)} -ErrorAction SilentlyContinue`,
    'if (-not $scope) {',
    `    New-ManagementScope -Name ${psQuote(scope)} -RecipientRestrictionFilter $scopeFilter -Confirm:$false | Out-Null`,
    `    ${say(`Management scope ${scope}: created.`)}`,
    "} elseif (($scope.RecipientFilter -replace '[\\s()''\"]', '') -eq ($scopeFilter -replace '[\\s()''\"]', '')) {",
    `    ${present(`Management scope ${scope}`)}`,
    '} else {',
    `    Set-ManagementScope -Identity ${psQuote(scope)} -RecipientRestrictionFilter $scopeFilter -Confirm:$false`,
    `    ${say(`Management scope ${scope}: set to the listed mailboxes.`)}`,
    '}',
    ...v.needs.rbacRoles.flatMap((role) => {
      const name = assignmentNameOf(v.appId, role);
      return [
        `if (Get-ManagementRoleAssignment -Identity ${psQuote(name)} -ErrorAction SilentlyContinue) {`,
        `    ${present(`Role assignment ${name}`)}`,
        '} else {',
        `    New-ManagementRoleAssignment -Name ${psQuote(name)} -Role ${psQuote(role)} -App ${sp} -CustomResourceScope ${psQuote(scope)} -Confirm:$false | Out-Null`,
        `    ${say(`Role assignment ${name}: created.`)}`,
        '}',
      ];
    }),
  ];
}

/** An application access policy (RestrictAccess) for a mail-enabled security group holding the mailboxes. */
function accessPolicyScoping(v: ExchangeSetupValues): string[] {
  const appId = psQuote(v.appId);
  return [
    '# An application access policy (https://learn.microsoft.com/powershell/module/exchangepowershell/new-applicationaccesspolicy):',
    '# RestrictAccess to the members of a mail-enabled security group, to which the listed mailboxes are added',
    '# (https://learn.microsoft.com/powershell/module/exchangepowershell/add-distributiongroupmember).',
    "if (-not $PolicyGroup) { throw '-Scoping AccessPolicy needs -PolicyGroup: the address of a mail-enabled security group for these mailboxes.' }",
    '$group = Get-DistributionGroup -Identity $PolicyGroup -ErrorAction SilentlyContinue',
    "if (-not $group -or [string] $group.RecipientTypeDetails -ne 'MailUniversalSecurityGroup') { throw ('-PolicyGroup ' + $PolicyGroup + ' is not a mail-enabled security group.') }",
    '$members = @(Get-DistributionGroupMember -Identity $PolicyGroup -ResultSize Unlimited | ForEach-Object { [string] $_.PrimarySmtpAddress })',
    ...v.mailboxes.flatMap((m) => [
      `if ($members -contains ${psQuote(m)}) {`,
      `    Write-Host (${psQuote(`${m} in `)} + $PolicyGroup + ': already present, left as it is.')`,
      '} else {',
      `    Add-DistributionGroupMember -Identity $PolicyGroup -Member ${psQuote(m)} -BypassSecurityGroupManagerCheck -Confirm:$false`,
      `    Write-Host (${psQuote(`${m} added to `)} + $PolicyGroup + '.')`,
      '}',
    ]),
    `if (Get-ApplicationAccessPolicy | Where-Object { $_.AppId -contains ${appId} -and [string] $_.AccessRight -eq 'RestrictAccess' -and ($_.ScopeName -eq $group.Name -or $_.ScopeIdentity -eq $group.Identity) }) {`,
    `    Write-Host ('Application access policy for the app and ' + $PolicyGroup + ': already present, left as it is.')`,
    '} else {',
    `    New-ApplicationAccessPolicy -AppId ${appId} -PolicyScopeGroupId $PolicyGroup -AccessRight RestrictAccess -Description ${psQuote(`PBX app ${v.appId}: only its mailboxes`)} -Confirm:$false | Out-Null`,
    `    Write-Host ('Application access policy for the app and ' + $PolicyGroup + ': created.')`,
    '}',
  ];
}

/** Limiting the app's Graph / EWS permissions to the listed mailboxes, as `$Scoping` says. */
export function scopingStep(v: ExchangeSetupValues, n: number): string[] {
  const head = [
    `# ${n}. Limit the app's Graph / EWS permissions (${v.needs.rbacRoles.join(', ')}) to the listed mailboxes, as`,
    '#    -Scoping says. Rbac, RBAC for Applications, is what Microsoft recommends: "App Access Policies are replaced by',
    '#    Role Based Access Control for Applications" (https://learn.microsoft.com/powershell/module/exchangepowershell/new-applicationaccesspolicy).',
    '#    Neither applies to IMAP/POP/SMTP, which reach only the mailboxes granted FullAccess above.',
  ];
  if (v.mailboxes.length === 0)
    return [...head, '#    No mailboxes were given, so there is nothing to limit the app to: skipped.'];
  return [
    ...head,
    "if ($Scoping -eq 'Rbac') {",
    ...indent(rbacScoping(v)),
    "} elseif ($Scoping -eq 'AccessPolicy') {",
    ...indent(accessPolicyScoping(v)),
    '} else {',
    `    ${say('Scoping None: the app keeps the reach its Entra ID permissions give it.')}`,
    '}',
  ];
}

/** The end: what Exchange now holds for the app, and what each mailbox lets it do. */
export function resultStep(v: ExchangeSetupValues, n: number, scoped: boolean): string[] {
  const sp = psQuote(v.servicePrincipalId);
  const out = [
    `# ${n}. The result: the service principal, its mailbox permissions${scoped ? ', and what the scoping lets it do' : ''}.`,
    `Get-ServicePrincipal -Identity ${psQuote(v.appId)} | Format-List -Property 'DisplayName', 'AppId', 'ObjectId'`,
  ];
  if (v.needs.mailboxAccess)
    for (const m of v.mailboxes)
      out.push(
        `Get-MailboxPermission -Identity ${psQuote(m)} -User ${sp} | Format-Table -Property 'Identity', 'User', 'AccessRights'`,
      );
  if (scoped && v.mailboxes.length > 0)
    out.push(
      "if ($Scoping -eq 'Rbac') {",
      '    # https://learn.microsoft.com/powershell/module/exchangepowershell/test-serviceprincipalauthorization',
      ...v.mailboxes.map(
        (m) =>
          `    Test-ServicePrincipalAuthorization -Identity ${sp} -Resource ${psQuote(m)} | Format-Table`,
      ),
      "} elseif ($Scoping -eq 'AccessPolicy') {",
      '    # https://learn.microsoft.com/powershell/module/exchangepowershell/test-applicationaccesspolicy',
      ...v.mailboxes.map(
        (m) =>
          `    Test-ApplicationAccessPolicy -Identity ${psQuote(m)} -AppId ${psQuote(v.appId)} | Format-List`,
      ),
      '}',
    );
  return out;
}
