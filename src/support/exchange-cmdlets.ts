/**
 * The cmdlets the Exchange PowerShell (src/support/exchange-setup.ts) may call, each with the parameters Microsoft's
 * cmdlet reference lists for it (the SYNTAX section of the page named, every parameter set) and whether it takes
 * `-Confirm`. test/support/exchange-script.test.ts checks every invocation in the generated text against this
 * table, so a cmdlet or parameter that is not here (a typo, a parameter from another cmdlet, one Microsoft removed)
 * fails a test instead of an administrator's session. The Exchange pages were read from
 * MicrosoftDocs/office-docs-powershell `exchange/exchange-ps/ExchangePowerShell/*.md` (main, August 2026), whose
 * `online version` is the URL given.
 * @module
 */

export interface CmdletReference {
  /** Microsoft's reference page for the cmdlet. */
  readonly url: string;
  /** Every named parameter in any of its parameter sets, without the leading dash; common parameters aside. */
  readonly parameters: readonly string[];
  /** It changes something: the script guards it with a look-up first and passes `-Confirm:$false`. */
  readonly changes: boolean;
}

/**
 * PowerShell's common parameters, which every cmdlet with `[<CommonParameters>]` takes
 * (https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_commonparameters).
 */
export const COMMON_PARAMETERS: readonly string[] = [
  'Debug',
  'ErrorAction',
  'ErrorVariable',
  'InformationAction',
  'InformationVariable',
  'OutBuffer',
  'OutVariable',
  'PipelineVariable',
  'ProgressAction',
  'Verbose',
  'WarningAction',
  'WarningVariable',
];

const EXO = 'https://learn.microsoft.com/powershell/module/exchangepowershell/';

const get = (name: string, parameters: readonly string[]): [string, CmdletReference] => [
  name,
  { url: EXO + name.toLowerCase(), parameters, changes: false },
];
const change = (name: string, parameters: readonly string[]): [string, CmdletReference] => [
  name,
  { url: EXO + name.toLowerCase(), parameters, changes: true },
];

export const EXCHANGE_CMDLETS: ReadonlyMap<string, CmdletReference> = new Map([
  get('Connect-ExchangeOnline', [
    'ConnectionUri',
    'AzureADAuthorizationEndpointUri',
    'ExchangeEnvironmentName',
    'PSSessionOption',
    'DelegatedOrganization',
    'Prefix',
    'CommandName',
    'FormatTypeName',
    'AccessToken',
    'AppId',
    'BypassMailboxAnchoring',
    'Certificate',
    'CertificateFilePath',
    'CertificatePassword',
    'CertificateThumbprint',
    'Credential',
    'Device',
    'DisableWAM',
    'EnableErrorReporting',
    'EXOModuleBasePath',
    'InlineCredential',
    'LoadCmdletHelp',
    'LogDirectoryPath',
    'LogLevel',
    'ManagedIdentity',
    'ManagedIdentityAccountId',
    'Organization',
    'PageSize',
    'ShowBanner',
    'ShowProgress',
    'SigningCertificate',
    'SkipLoadingCmdletHelp',
    'SkipLoadingFormatData',
    'TrackPerformance',
    'UseMultithreading',
    'UserPrincipalName',
    'UseRPSSession',
  ]),
  get('Get-ServicePrincipal', ['Identity', 'Organization']),
  // -ServiceId is listed as required but "is being deprecated. Use the ObjectId parameter instead." (same page).
  change('New-ServicePrincipal', [
    'AppId',
    'ObjectId',
    'ServiceId',
    'Confirm',
    'DisplayName',
    'Organization',
    'WhatIf',
  ]),
  get('Get-MailboxPermission', [
    'Identity',
    'Owner',
    'User',
    'SoftDeletedMailbox',
    'Credential',
    'DomainController',
    'GroupMailbox',
    'IncludeSoftDeletedUserPermissions',
    'IncludeUnresolvedPermissions',
    'IncludeUserWithDisplayName',
    'ReadFromDomainController',
    'ResultSize',
    'UseCustomRouting',
  ]),
  change('Add-MailboxPermission', [
    'Identity',
    'AccessRights',
    'User',
    'Owner',
    'Instance',
    'AutoMapping',
    'Confirm',
    'Deny',
    'DomainController',
    'GroupMailbox',
    'IgnoreDefaultScope',
    'InheritanceType',
    'WhatIf',
  ]),
  get('Get-RecipientPermission', [
    'Identity',
    'AccessRights',
    'IncludeTrusteeWithPrimarySmtpAddress',
    'ReadFromDomainController',
    'ResultSize',
    'Trustee',
  ]),
  change('Add-RecipientPermission', ['Identity', 'AccessRights', 'Trustee', 'Confirm', 'WhatIf']),
  get('Get-ManagementScope', ['Identity', 'DomainController', 'Exclusive', 'Orphan']),
  change('New-ManagementScope', [
    'Name',
    'DatabaseList',
    'DatabaseRestrictionFilter',
    'RecipientRestrictionFilter',
    'ServerList',
    'ServerRestrictionFilter',
    'RecipientRoot',
    'Confirm',
    'DomainController',
    'Exclusive',
    'Force',
    'WhatIf',
  ]),
  change('Set-ManagementScope', [
    'Identity',
    'DatabaseRestrictionFilter',
    'ServerRestrictionFilter',
    'RecipientRestrictionFilter',
    'RecipientRoot',
    'Confirm',
    'DomainController',
    'Force',
    'Name',
    'WhatIf',
  ]),
  get('Get-ManagementRoleAssignment', [
    'Identity',
    'AssignmentMethod',
    'Role',
    'RoleAssignee',
    'ConfigWriteScope',
    'CustomConfigWriteScope',
    'CustomRecipientWriteScope',
    'Delegating',
    'DomainController',
    'Enabled',
    'Exclusive',
    'ExclusiveConfigWriteScope',
    'ExclusiveRecipientWriteScope',
    'GetEffectiveUsers',
    'RecipientAdministrativeUnitScope',
    'RecipientGroupScope',
    'RecipientOrganizationalUnitScope',
    'RecipientWriteScope',
    'RoleAssigneeType',
    'WritableDatabase',
    'WritableRecipient',
    'WritableServer',
  ]),
  // The App parameter set: -App takes "the ObjectId GUID value from the output of the Get-ServicePrincipal cmdlet".
  change('New-ManagementRoleAssignment', [
    'Name',
    'Role',
    'App',
    'CustomResourceScope',
    'Computer',
    'Policy',
    'SecurityGroup',
    'User',
    'Confirm',
    'CustomConfigWriteScope',
    'CustomRecipientWriteScope',
    'Delegating',
    'DomainController',
    'ExclusiveConfigWriteScope',
    'ExclusiveRecipientWriteScope',
    'Force',
    'RecipientAdministrativeUnitScope',
    'RecipientGroupScope',
    'RecipientOrganizationalUnitScope',
    'RecipientRelativeWriteScope',
    'UnScopedTopLevel',
    'WhatIf',
  ]),
  get('Test-ServicePrincipalAuthorization', ['Identity', 'Confirm', 'Resource', 'WhatIf']),
  get('Get-DistributionGroup', [
    'Anr',
    'Identity',
    'ManagedBy',
    'Credential',
    'DomainController',
    'Filter',
    'IgnoreDefaultScope',
    'IncludeAcceptMessagesOnlyFromDLMembersWithDisplayNames',
    'IncludeAcceptMessagesOnlyFromSendersOrMembersWithDisplayNames',
    'IncludeAcceptMessagesOnlyFromWithDisplayNames',
    'IncludeBypassModerationFromSendersOrMembersWithDisplayNames',
    'IncludeGrantSendOnBehalfToWithDisplayNames',
    'IncludeManagedByWithDisplayNames',
    'IncludeModeratedByWithDisplayNames',
    'OrganizationalUnit',
    'ReadFromDomainController',
    'RecipientTypeDetails',
    'ResultSize',
    'SortBy',
  ]),
  get('Get-DistributionGroupMember', [
    'Identity',
    'Credential',
    'DomainController',
    'IgnoreDefaultScope',
    'IncludeSoftDeletedObjects',
    'ReadFromDomainController',
    'ResultSize',
  ]),
  change('Add-DistributionGroupMember', [
    'Identity',
    'BypassSecurityGroupManagerCheck',
    'Confirm',
    'DomainController',
    'Member',
    'WhatIf',
  ]),
  get('Get-ApplicationAccessPolicy', ['Identity']),
  change('New-ApplicationAccessPolicy', [
    'AccessRight',
    'AppId',
    'PolicyScopeGroupId',
    'Confirm',
    'Description',
    'WhatIf',
  ]),
  get('Test-ApplicationAccessPolicy', ['Identity', 'AppId']),
  // RetrieveEwsOperationAccessPolicy is not in the Get-OrganizationConfig page's syntax yet; the Set-OrganizationConfig
  // page (-EwsAllowedAppIDs: "use the RetrieveEwsOperationAccessPolicy switch on the Get-OrganizationConfig cmdlet")
  // and the Exchange Team's "Introducing EWSAllowedAppIDs" (https://techcommunity.microsoft.com/blog/exchange/introducing-ewsallowedappids-preparing-for-the-final-phase-of-ews-retirement/4529471)
  // name it: the list is returned only when asked for.
  get('Get-OrganizationConfig', ['DomainController', 'RetrieveEwsOperationAccessPolicy']),
  // Only the parameters of its parameter sets that the script may use, and the sets' other EWS ones; the page
  // lists some 200. -EwsAllowedAppIDs is in the ShortenEventScopeParameter and DelayedDelicensingParameterSet sets,
  // -EwsEnabled in all; the second set has no mandatory parameter.
  change('Set-OrganizationConfig', [
    'EwsAllowedAppIDs',
    'EwsEnabled',
    'EwsAllowList',
    'EwsApplicationAccessPolicy',
    'EwsBlockList',
    'Confirm',
    'WhatIf',
  ]),
]);

const CORE = 'https://learn.microsoft.com/powershell/module/';

/** PowerShell's own cmdlets the script uses, with the parameters their reference pages list. */
export const CORE_CMDLETS: ReadonlyMap<string, CmdletReference> = new Map<string, CmdletReference>([
  [
    'Write-Host',
    {
      url: `${CORE}microsoft.powershell.utility/write-host`,
      parameters: ['Object', 'NoNewline', 'Separator', 'ForegroundColor', 'BackgroundColor'],
      changes: false,
    },
  ],
  [
    'Write-Warning',
    { url: `${CORE}microsoft.powershell.utility/write-warning`, parameters: ['Message'], changes: false },
  ],
  [
    'Read-Host',
    {
      url: `${CORE}microsoft.powershell.utility/read-host`,
      parameters: ['Prompt', 'AsSecureString', 'MaskInput'],
      changes: false,
    },
  ],
  [
    'Where-Object',
    {
      url: `${CORE}microsoft.powershell.core/where-object`,
      parameters: ['FilterScript', 'InputObject', 'Property', 'Value', 'Not'],
      changes: false,
    },
  ],
  [
    'ForEach-Object',
    {
      url: `${CORE}microsoft.powershell.core/foreach-object`,
      parameters: [
        'Process',
        'Begin',
        'End',
        'InputObject',
        'MemberName',
        'ArgumentList',
        'RemainingScripts',
      ],
      changes: false,
    },
  ],
  [
    'Format-Table',
    {
      url: `${CORE}microsoft.powershell.utility/format-table`,
      parameters: [
        'AutoSize',
        'RepeatHeader',
        'HideTableHeaders',
        'Wrap',
        'Property',
        'GroupBy',
        'View',
        'ShowError',
        'DisplayError',
        'Force',
        'Expand',
        'InputObject',
      ],
      changes: false,
    },
  ],
  [
    'Format-List',
    {
      url: `${CORE}microsoft.powershell.utility/format-list`,
      parameters: [
        'Property',
        'GroupBy',
        'View',
        'ShowError',
        'DisplayError',
        'Force',
        'Expand',
        'InputObject',
      ],
      changes: false,
    },
  ],
  [
    'Out-Null',
    { url: `${CORE}microsoft.powershell.core/out-null`, parameters: ['InputObject'], changes: false },
  ],
]);

/** The reference entry of a cmdlet, Exchange's or PowerShell's (names are case-insensitive in PowerShell). */
export function cmdletReference(name: string): CmdletReference | undefined {
  const lower = name.toLowerCase();
  for (const table of [EXCHANGE_CMDLETS, CORE_CMDLETS])
    for (const [n, ref] of table) if (n.toLowerCase() === lower) return ref;
  return undefined;
}
