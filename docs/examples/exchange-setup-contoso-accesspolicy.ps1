# Exchange Online setup for Northwind PBX Connector
# Tenant:    Contoso Ltd (c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90)
# Generated: 2026-12-02T19:48:54.677Z by Consent Broker (http://localhost:7071)
#
# What it does: registers the enterprise application Northwind PBX Connector
# (app id 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250, object id 77081b48-ae41-4569-a08a-6e2d03a44735) as an Exchange Online service principal, so that
# the app signs it in to the listed mailboxes over IMAP/SMTP with OAuth, and grants it these mailboxes:
#   reception@contoso.example
#   voicemail@contoso.example
# It also puts the app on the tenant's EWS allow-list, keeping the apps already on it.
#
# Run it in PowerShell with the ExchangeOnlineManagement module, naming the Exchange administrator to sign in as:
#   .\exchange-setup-c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90.ps1 -AdminUpn admin@contosoltdc0a7.onmicrosoft.com
#   .\exchange-setup-c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90.ps1 -AdminUpn admin@contosoltdc0a7.onmicrosoft.com -Scoping AccessPolicy -PolicyGroup pbx-mailboxes@example.com
# -Scoping (default AccessPolicy) limits the app's Graph / EWS permissions to the listed mailboxes.
# It signs in interactively as that administrator (Connect-ExchangeOnline -UserPrincipalName), not with
# -Organization, which is for app-only sign-in with a certificate or a managed identity.
# It is safe to run again: each step looks first and leaves what it finds ("already present, left as it is").

[CmdletBinding()]
param(
    # The Exchange administrator to sign in as, e.g. admin@contosoltdc0a7.onmicrosoft.com (Connect-ExchangeOnline -UserPrincipalName).
    [Parameter(Mandatory)] [string] $AdminUpn,
    # How to limit the app's Graph / EWS permissions to the listed mailboxes: Rbac (RBAC for Applications,
    # Microsoft's recommendation), AccessPolicy (an application access policy for -PolicyGroup), or None.
    [ValidateSet('Rbac', 'AccessPolicy', 'None')] [string] $Scoping = 'AccessPolicy',
    # -Scoping AccessPolicy: the address of a mail-enabled security group for these mailboxes.
    [string] $PolicyGroup,
    # SMTP: other addresses the app sends as, without signing in to them (SendAs).
    [string[]] $SendAsAddresses = @()
)
$ErrorActionPreference = 'Stop'

# 1. Sign in to Exchange Online as an administrator with the Organization Management role, interactively
#    (-UserPrincipalName: https://learn.microsoft.com/powershell/module/exchangepowershell/connect-exchangeonline;
#    -Organization is only for app-only sign-in with a certificate or a managed identity, same page).
#    Once per computer, if the module is missing: Install-Module -Name ExchangeOnlineManagement
Connect-ExchangeOnline -UserPrincipalName $AdminUpn -ShowBanner:$false

# 2. Register the app's enterprise application as an Exchange service principal. -ObjectId is the Enterprise
#    application (service principal) object id, not the App registration's; -ServiceId is deprecated
#    (https://learn.microsoft.com/powershell/module/exchangepowershell/new-serviceprincipal).
#    Get-ServicePrincipal -Identity takes the AppId; an unknown one may answer every service principal, hence the
#    filter (https://learn.microsoft.com/powershell/module/exchangepowershell/get-serviceprincipal).
$registered = @(Get-ServicePrincipal -Identity '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -ErrorAction SilentlyContinue | Where-Object { $_.AppId -eq '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' })
if ($registered | Where-Object { $_.ObjectId -eq '77081b48-ae41-4569-a08a-6e2d03a44735' }) {
    Write-Host 'Service principal of Northwind PBX Connector (app id 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250): already present, left as it is.'
} elseif ($registered.Count -gt 0) {
    throw ('Service principal of Northwind PBX Connector (app id 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250) is registered with another object id (' + ($registered.ObjectId -join ', ') + '), not 77081b48-ae41-4569-a08a-6e2d03a44735: remove that registration (Remove-ServicePrincipal) and run this again.')
} else {
    New-ServicePrincipal -AppId '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -ObjectId '77081b48-ae41-4569-a08a-6e2d03a44735' -DisplayName 'Northwind PBX Connector' -Confirm:$false | Out-Null
    Write-Host 'Service principal of Northwind PBX Connector (app id 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250): registered.'
}

# 3. Let the app sign in to each mailbox over IMAP/SMTP: FullAccess for its service principal
#    (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth,
#    https://learn.microsoft.com/powershell/module/exchangepowershell/add-mailboxpermission).
if (Get-MailboxPermission -Identity 'reception@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' -ErrorAction SilentlyContinue | Where-Object { -not $_.Deny -and ($_.AccessRights -join ',') -match 'FullAccess' }) {
    Write-Host 'FullAccess on reception@contoso.example: already present, left as it is.'
} else {
    Add-MailboxPermission -Identity 'reception@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' -AccessRights FullAccess -Confirm:$false | Out-Null
    Write-Host 'FullAccess on reception@contoso.example: granted.'
}
if (Get-MailboxPermission -Identity 'voicemail@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' -ErrorAction SilentlyContinue | Where-Object { -not $_.Deny -and ($_.AccessRights -join ',') -match 'FullAccess' }) {
    Write-Host 'FullAccess on voicemail@contoso.example: already present, left as it is.'
} else {
    Add-MailboxPermission -Identity 'voicemail@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' -AccessRights FullAccess -Confirm:$false | Out-Null
    Write-Host 'FullAccess on voicemail@contoso.example: granted.'
}

# 4. SMTP: the app sends from each mailbox above with FullAccess alone. Only for another address it sends as
#    (-SendAsAddresses) does it need SendAs on that address
#    (https://learn.microsoft.com/powershell/module/exchangepowershell/add-recipientpermission).
foreach ($address in $SendAsAddresses) {
    if (Get-RecipientPermission -Identity $address -Trustee '77081b48-ae41-4569-a08a-6e2d03a44735' -AccessRights SendAs -ErrorAction SilentlyContinue) {
        Write-Host ('SendAs on ' + $address + ': already present, left as it is.')
    } else {
        Add-RecipientPermission -Identity $address -Trustee '77081b48-ae41-4569-a08a-6e2d03a44735' -AccessRights SendAs -Confirm:$false | Out-Null
        Write-Host ('SendAs on ' + $address + ': granted.')
    }
}

# 5. Limit the app's Graph / EWS permissions (Application EWS.AccessAsApp, Application Mail.ReadWrite, Application Mail.Send) to the listed mailboxes, as
#    -Scoping says. Rbac, RBAC for Applications, is what Microsoft recommends: "App Access Policies are replaced by
#    Role Based Access Control for Applications" (https://learn.microsoft.com/powershell/module/exchangepowershell/new-applicationaccesspolicy).
#    Neither applies to IMAP/POP/SMTP, which reach only the mailboxes granted FullAccess above.
if ($Scoping -eq 'Rbac') {
    # RBAC for Applications (https://learn.microsoft.com/exchange/permissions-exo/application-rbac): a management
    # scope of the mailboxes (New-ManagementScope -RecipientRestrictionFilter) and the app's roles on it
    # (New-ManagementRoleAssignment -App <service principal object id> -CustomResourceScope,
    # https://learn.microsoft.com/powershell/module/exchangepowershell/new-managementroleassignment). Its grants are
    # "independent of the unscoped grants in Microsoft Entra ID" (https://learn.microsoft.com/graph/auth-limit-mailbox-access):
    # while the app holds the same permission tenant-wide in Entra ID, that grant still applies.
    $scopeFilter = 'PrimarySmtpAddress -eq ''reception@contoso.example'' -or PrimarySmtpAddress -eq ''voicemail@contoso.example'''
    $scope = Get-ManagementScope -Identity 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -ErrorAction SilentlyContinue
    if (-not $scope) {
        New-ManagementScope -Name 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -RecipientRestrictionFilter $scopeFilter -Confirm:$false | Out-Null
        Write-Host 'Management scope Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: created.'
    } elseif (($scope.RecipientFilter -replace '[\s()''"]', '') -eq ($scopeFilter -replace '[\s()''"]', '')) {
        Write-Host 'Management scope Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: already present, left as it is.'
    } else {
        Set-ManagementScope -Identity 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -RecipientRestrictionFilter $scopeFilter -Confirm:$false
        Write-Host 'Management scope Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: set to the listed mailboxes.'
    }
    if (Get-ManagementRoleAssignment -Identity 'Application EWS.AccessAsApp for app 3b8e6d0a' -ErrorAction SilentlyContinue) {
        Write-Host 'Role assignment Application EWS.AccessAsApp for app 3b8e6d0a: already present, left as it is.'
    } else {
        New-ManagementRoleAssignment -Name 'Application EWS.AccessAsApp for app 3b8e6d0a' -Role 'Application EWS.AccessAsApp' -App '77081b48-ae41-4569-a08a-6e2d03a44735' -CustomResourceScope 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -Confirm:$false | Out-Null
        Write-Host 'Role assignment Application EWS.AccessAsApp for app 3b8e6d0a: created.'
    }
    if (Get-ManagementRoleAssignment -Identity 'Application Mail.ReadWrite for app 3b8e6d0a' -ErrorAction SilentlyContinue) {
        Write-Host 'Role assignment Application Mail.ReadWrite for app 3b8e6d0a: already present, left as it is.'
    } else {
        New-ManagementRoleAssignment -Name 'Application Mail.ReadWrite for app 3b8e6d0a' -Role 'Application Mail.ReadWrite' -App '77081b48-ae41-4569-a08a-6e2d03a44735' -CustomResourceScope 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -Confirm:$false | Out-Null
        Write-Host 'Role assignment Application Mail.ReadWrite for app 3b8e6d0a: created.'
    }
    if (Get-ManagementRoleAssignment -Identity 'Application Mail.Send for app 3b8e6d0a' -ErrorAction SilentlyContinue) {
        Write-Host 'Role assignment Application Mail.Send for app 3b8e6d0a: already present, left as it is.'
    } else {
        New-ManagementRoleAssignment -Name 'Application Mail.Send for app 3b8e6d0a' -Role 'Application Mail.Send' -App '77081b48-ae41-4569-a08a-6e2d03a44735' -CustomResourceScope 'Mailboxes of app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -Confirm:$false | Out-Null
        Write-Host 'Role assignment Application Mail.Send for app 3b8e6d0a: created.'
    }
} elseif ($Scoping -eq 'AccessPolicy') {
    # An application access policy (https://learn.microsoft.com/powershell/module/exchangepowershell/new-applicationaccesspolicy):
    # RestrictAccess to the members of a mail-enabled security group, to which the listed mailboxes are added
    # (https://learn.microsoft.com/powershell/module/exchangepowershell/add-distributiongroupmember).
    if (-not $PolicyGroup) { throw '-Scoping AccessPolicy needs -PolicyGroup: the address of a mail-enabled security group for these mailboxes.' }
    $group = Get-DistributionGroup -Identity $PolicyGroup -ErrorAction SilentlyContinue
    if (-not $group -or [string] $group.RecipientTypeDetails -ne 'MailUniversalSecurityGroup') { throw ('-PolicyGroup ' + $PolicyGroup + ' is not a mail-enabled security group.') }
    $members = @(Get-DistributionGroupMember -Identity $PolicyGroup -ResultSize Unlimited | ForEach-Object { [string] $_.PrimarySmtpAddress })
    if ($members -contains 'reception@contoso.example') {
        Write-Host ('reception@contoso.example in ' + $PolicyGroup + ': already present, left as it is.')
    } else {
        Add-DistributionGroupMember -Identity $PolicyGroup -Member 'reception@contoso.example' -BypassSecurityGroupManagerCheck -Confirm:$false
        Write-Host ('reception@contoso.example added to ' + $PolicyGroup + '.')
    }
    if ($members -contains 'voicemail@contoso.example') {
        Write-Host ('voicemail@contoso.example in ' + $PolicyGroup + ': already present, left as it is.')
    } else {
        Add-DistributionGroupMember -Identity $PolicyGroup -Member 'voicemail@contoso.example' -BypassSecurityGroupManagerCheck -Confirm:$false
        Write-Host ('voicemail@contoso.example added to ' + $PolicyGroup + '.')
    }
    if (Get-ApplicationAccessPolicy | Where-Object { $_.AppId -contains '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -and [string] $_.AccessRight -eq 'RestrictAccess' -and ($_.ScopeName -eq $group.Name -or $_.ScopeIdentity -eq $group.Identity) }) {
        Write-Host ('Application access policy for the app and ' + $PolicyGroup + ': already present, left as it is.')
    } else {
        New-ApplicationAccessPolicy -AppId '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' -PolicyScopeGroupId $PolicyGroup -AccessRight RestrictAccess -Description 'PBX app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: only its mailboxes' -Confirm:$false | Out-Null
        Write-Host ('Application access policy for the app and ' + $PolicyGroup + ': created.')
    }
} else {
    Write-Host 'Scoping None: the app keeps the reach its Entra ID permissions give it.'
}

# 6. EWS: since 1 October 2026 Exchange Online blocks EWS unless the tenant allows it: EWSEnabled set to True and
# the app's id on the tenant's EWS allow-list (EWSAllowedAppIDs). On 1 April 2027 EWS in Exchange Online is
# switched off for good, with no exceptions; the PBX must use Microsoft Graph by then.
# (https://techcommunity.microsoft.com/blog/exchange/exchange-online-ews-your-time-is-almost-up/4492361;
# https://techcommunity.microsoft.com/blog/exchange/introducing-ewsallowedappids-preparing-for-the-final-phase-of-ews-retirement/4529471;
# https://learn.microsoft.com/powershell/module/exchangepowershell/set-organizationconfig, -EwsAllowedAppIDs.)
# The list is one comma-separated string that Set-OrganizationConfig replaces whole: this keeps every id on it.
$ewsConfig = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy
$ewsAllowed = @((@($ewsConfig.EwsAllowedAppIDs) -join ',') -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
if ($ewsAllowed -contains '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250') {
    Write-Host 'EWS allow-list entry for app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: already present, left as it is.'
} else {
    Set-OrganizationConfig -EwsAllowedAppIDs ((@($ewsAllowed) + '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250') -join ',') -Confirm:$false
    Write-Host ('EWS allow-list entry for app 3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250: added, keeping the ' + $ewsAllowed.Count + ' already listed.')
}
if ($ewsConfig.EwsEnabled -eq $true) {
    Write-Host 'EWSEnabled True: already present, left as it is.'
} else {
    # $false blocks all EWS; not set ($null) is being turned into $false by Microsoft. True allows only the listed apps.
    Set-OrganizationConfig -EwsEnabled $true -Confirm:$false
    Write-Host ('EWSEnabled set to True (was ' + $(if ($null -eq $ewsConfig.EwsEnabled) { 'not set' } else { 'False' }) + '); only the apps on the allow-list may use EWS.')
}

# 7. The result: the service principal, its mailbox permissions, and what the scoping lets it do.
Get-ServicePrincipal -Identity '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' | Format-List -Property 'DisplayName', 'AppId', 'ObjectId'
Get-MailboxPermission -Identity 'reception@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' | Format-Table -Property 'Identity', 'User', 'AccessRights'
Get-MailboxPermission -Identity 'voicemail@contoso.example' -User '77081b48-ae41-4569-a08a-6e2d03a44735' | Format-Table -Property 'Identity', 'User', 'AccessRights'
if ($Scoping -eq 'Rbac') {
    # https://learn.microsoft.com/powershell/module/exchangepowershell/test-serviceprincipalauthorization
    Test-ServicePrincipalAuthorization -Identity '77081b48-ae41-4569-a08a-6e2d03a44735' -Resource 'reception@contoso.example' | Format-Table
    Test-ServicePrincipalAuthorization -Identity '77081b48-ae41-4569-a08a-6e2d03a44735' -Resource 'voicemail@contoso.example' | Format-Table
} elseif ($Scoping -eq 'AccessPolicy') {
    # https://learn.microsoft.com/powershell/module/exchangepowershell/test-applicationaccesspolicy
    Test-ApplicationAccessPolicy -Identity 'reception@contoso.example' -AppId '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' | Format-List
    Test-ApplicationAccessPolicy -Identity 'voicemail@contoso.example' -AppId '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250' | Format-List
}
