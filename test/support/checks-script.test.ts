/**
 * The pieces of the Exchange PowerShell (src/support/powershell.ts, mailbox-address.ts, exchange-setup.ts):
 * quoting, address rules, and what the script contains for each set of profiles: the interactive sign-in, a look-up
 * before each change, -Confirm:$false, both ways of scoping, and the EWS allow-list kept whole.
 * test/support/exchange-script.test.ts parses it and checks each cmdlet against Microsoft's reference.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import {
  ewsAllowListSteps,
  exchangeNeeds,
  exchangeSetupCommands,
  exchangeSetupScript,
  mailboxAccessCommands,
  organizationFor,
  type ExchangeScoping,
  type ExchangeSetupValues,
} from '../../src/support/exchange-setup.js';
import { isMailboxAddress, parseMailboxList } from '../../src/support/mailbox-address.js';
import { psCommentText, psQuote } from '../../src/support/powershell.js';

const profiles = await loadProfiles(undefined);
const pick = (...names: string[]) => names.map((n) => profiles.get(n)!);

const base: ExchangeSetupValues = {
  tenantId: '0f9e8d7c-6b5a-4321-9876-543210fedcba',
  tenantName: 'Contoso',
  organization: 'contoso.onmicrosoft.com',
  appId: '11111111-2222-4333-8444-555555555555',
  servicePrincipalId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  servicePrincipalName: 'PBX Vendor',
  mailboxes: ['queue@contoso.example', "o'neil@contoso.example"],
  needs: exchangeNeeds(pick('exchange-imap', 'exchange-smtp', 'graph-mail')),
  exchangeEnvironment: 'O365Default',
};

describe('PowerShell quoting', () => {
  it('writes single-quoted literals, doubling every single quote mark PowerShell accepts', () => {
    expect(psQuote("o'neil@x.example")).toBe("'o''neil@x.example'");
    expect(psQuote('$(Remove-Mailbox) `n')).toBe("'$(Remove-Mailbox) `n'");
    // U+2018–U+201B close a single-quoted string in PowerShell too.
    expect(psQuote('a\u2019b\u2018c')).toBe("'a\u2019\u2019b\u2018\u2018c'");
  });

  it('keeps comment text on one line', () => {
    expect(psCommentText('Evil\r\nRemove-Mailbox\u2028x\u0085y')).toBe('Evil  Remove-Mailbox x y');
  });
});

describe('mailbox addresses', () => {
  it.each([
    'queue@contoso.example',
    "o'neil@x.example",
    'first.last+pbx@sub.contoso.co.uk',
    'a_b-c@x-y.example',
  ])('accepts %s', (a) => expect(isMailboxAddress(a)).toBe(true));

  it.each([
    'a@x;Remove-Mailbox',
    'a@x.example\nRemove-Mailbox',
    'a@x.example ',
    '$x@x.example',
    'a`b@x.example',
    '"a"@x.example',
    'a..b@x.example',
    '.a@x.example',
    'a@x',
    'a@-x.example',
    'a@[127.0.0.1]',
    '@x.example',
    'a@',
    'ä@x.example',
    `${'a'.repeat(65)}@x.example`,
  ])('refuses %j', (a) => expect(isMailboxAddress(a)).toBe(false));

  it('names a refused address by its index only, and drops duplicates', () => {
    const bad = parseMailboxList(['ok@x.example', 'a@x;Remove-Mailbox'], 'mailboxes', 20);
    expect(bad).toEqual({
      ok: false,
      reason: expect.stringMatching(/^mailboxes\[1\] is not a valid email address/),
    });
    expect(JSON.stringify(bad)).not.toContain('Remove-Mailbox');
    expect(parseMailboxList(['A@x.example', 'a@X.example'], 'mailboxes', 20)).toEqual({
      ok: true,
      addresses: ['A@x.example'],
    });
    expect(parseMailboxList(Array(21).fill('a@x.example'), 'mailboxes', 20)).toMatchObject({ ok: false });
    expect(parseMailboxList([42], 'mailboxes', 20)).toMatchObject({ ok: false });
  });
});

describe('Exchange setup script', () => {
  const script = (v: ExchangeSetupValues, scoping?: ExchangeScoping) =>
    exchangeSetupScript(v, {
      generatedAt: new Date('2026-11-20T10:00:00Z'),
      brokerUrl: 'https://broker.example',
      scoping,
    });
  const code = (ps: string) =>
    ps
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
  const sp = `'${base.servicePrincipalId}'`;
  const app = `'${base.appId}'`;

  it('derives what Exchange needs from the profiles', () => {
    expect(exchangeNeeds(pick('exchange-imap'))).toEqual({
      mailboxAccess: true,
      sendAs: false,
      ews: false,
      protocols: ['IMAP'],
      rbacRoles: [],
    });
    expect(exchangeNeeds(pick('exchange-smtp', 'exchange-ews', 'graph-mail'))).toEqual({
      mailboxAccess: true,
      sendAs: true,
      ews: true,
      protocols: ['SMTP'],
      rbacRoles: ['Application EWS.AccessAsApp', 'Application Mail.ReadWrite', 'Application Mail.Send'],
    });
  });

  it('signs in as the administrator the -AdminUpn parameter names, never with -Organization', () => {
    const ps = script(base);
    expect(ps).toContain('[CmdletBinding()]\nparam(\n');
    expect(ps).toContain('    [Parameter(Mandatory)] [string] $AdminUpn,');
    expect(ps).toContain("$ErrorActionPreference = 'Stop'");
    expect(ps).toContain('Connect-ExchangeOnline -UserPrincipalName $AdminUpn -ShowBanner:$false');
    expect(code(ps)).not.toContain('-Organization');
    expect(ps).toContain(
      `#   .\\exchange-setup-${base.tenantId}.ps1 -AdminUpn admin@contoso.onmicrosoft.com`,
    );
    // Pasted into a console: it asks for the administrator, and leaves the session's preferences alone.
    const pasted = exchangeSetupCommands(base);
    expect(pasted.split('\n')[0]).toBe(
      "$AdminUpn = Read-Host -Prompt 'Exchange administrator to sign in as (e.g. admin@contoso.onmicrosoft.com)'",
    );
    expect(pasted).not.toContain('param(');
    expect(pasted).not.toContain('$ErrorActionPreference');
  });

  it('registers the enterprise application with -ObjectId only when it is not registered yet', () => {
    const ps = script(base);
    expect(ps).toContain(
      `$registered = @(Get-ServicePrincipal -Identity ${app} -ErrorAction SilentlyContinue | Where-Object { $_.AppId -eq ${app} })\n` +
        `if ($registered | Where-Object { $_.ObjectId -eq ${sp} }) {\n` +
        `    Write-Host 'Service principal of PBX Vendor (app id ${base.appId}): already present, left as it is.'\n` +
        '} elseif ($registered.Count -gt 0) {\n',
    );
    expect(ps).toContain(
      `} else {\n    New-ServicePrincipal -AppId ${app} -ObjectId ${sp} -DisplayName 'PBX Vendor' -Confirm:$false | Out-Null\n`,
    );
    expect(code(ps)).not.toContain('-ServiceId');
  });

  it('grants FullAccess on each mailbox unless it is there, and SendAs only on other addresses', () => {
    const ps = script(base);
    expect(ps).toContain(
      `if (Get-MailboxPermission -Identity 'o''neil@contoso.example' -User ${sp} -ErrorAction SilentlyContinue | Where-Object { -not $_.Deny -and ($_.AccessRights -join ',') -match 'FullAccess' }) {\n` +
        "    Write-Host 'FullAccess on o''neil@contoso.example: already present, left as it is.'\n" +
        '} else {\n' +
        `    Add-MailboxPermission -Identity 'o''neil@contoso.example' -User ${sp} -AccessRights FullAccess -Confirm:$false | Out-Null\n`,
    );
    // The app sends from the mailboxes it signs in to with FullAccess: no SendAs on them.
    expect(ps).not.toMatch(/Add-RecipientPermission -Identity '/);
    expect(ps).toContain('    [string[]] $SendAsAddresses = @()\n)');
    expect(ps).toContain(
      'foreach ($address in $SendAsAddresses) {\n' +
        `    if (Get-RecipientPermission -Identity $address -Trustee ${sp} -AccessRights SendAs -ErrorAction SilentlyContinue) {\n` +
        "        Write-Host ('SendAs on ' + $address + ': already present, left as it is.')\n" +
        '    } else {\n' +
        `        Add-RecipientPermission -Identity $address -Trustee ${sp} -AccessRights SendAs -Confirm:$false | Out-Null\n`,
    );
    const imapOnly = script({ ...base, needs: exchangeNeeds(pick('exchange-imap')) });
    expect(imapOnly).not.toContain('SendAs');
    expect(imapOnly).toContain('    [Parameter(Mandatory)] [string] $AdminUpn\n)');
  });

  it('scopes Graph / EWS permissions with RBAC for Applications, each object looked up first', () => {
    const ps = script(base);
    expect(ps).toContain("    [ValidateSet('Rbac', 'AccessPolicy', 'None')] [string] $Scoping = 'Rbac',");
    const scope = `'Mailboxes of app ${base.appId}'`;
    // OPATH values in single quotes, doubled inside the PowerShell literal (and o'neil's quote doubled twice).
    const filter =
      "'PrimarySmtpAddress -eq ''queue@contoso.example'' -or PrimarySmtpAddress -eq ''o''''neil@contoso.example'''";
    expect(ps).toContain(
      `    $scopeFilter = ${filter}\n` +
        `    $scope = Get-ManagementScope -Identity ${scope} -ErrorAction SilentlyContinue\n` +
        '    if (-not $scope) {\n' +
        `        New-ManagementScope -Name ${scope} -RecipientRestrictionFilter $scopeFilter -Confirm:$false | Out-Null\n`,
    );
    expect(ps).toContain(
      `        Set-ManagementScope -Identity ${scope} -RecipientRestrictionFilter $scopeFilter -Confirm:$false\n`,
    );
    for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send']) {
      const name = `${role} for app 11111111`;
      expect(ps).toContain(
        `    if (Get-ManagementRoleAssignment -Identity '${name}' -ErrorAction SilentlyContinue) {\n` +
          `        Write-Host 'Role assignment ${name}: already present, left as it is.'\n` +
          '    } else {\n' +
          `        New-ManagementRoleAssignment -Name '${name}' -Role '${role}' -App ${sp} -CustomResourceScope ${scope} -Confirm:$false | Out-Null\n`,
      );
    }
    expect(ps).toContain(
      `    Test-ServicePrincipalAuthorization -Identity ${sp} -Resource 'queue@contoso.example' | Format-Table`,
    );
  });

  it('or with an application access policy for a mail-enabled security group, the default when asked', () => {
    const ps = script(base, 'accessPolicy');
    expect(ps).toContain("[string] $Scoping = 'AccessPolicy',");
    expect(ps).toContain('    [string] $PolicyGroup,');
    expect(ps).toContain(
      "    if ($members -contains 'o''neil@contoso.example') {\n" +
        "        Write-Host ('o''neil@contoso.example in ' + $PolicyGroup + ': already present, left as it is.')\n" +
        '    } else {\n' +
        "        Add-DistributionGroupMember -Identity $PolicyGroup -Member 'o''neil@contoso.example' -BypassSecurityGroupManagerCheck -Confirm:$false\n",
    );
    expect(ps).toContain(
      `    if (Get-ApplicationAccessPolicy | Where-Object { $_.AppId -contains ${app} -and [string] $_.AccessRight -eq 'RestrictAccess'`,
    );
    expect(ps).toContain(
      `        New-ApplicationAccessPolicy -AppId ${app} -PolicyScopeGroupId $PolicyGroup -AccessRight RestrictAccess -Description 'PBX app ${base.appId}: only its mailboxes' -Confirm:$false | Out-Null\n`,
    );
    expect(
      ps
        .trimEnd()
        .endsWith(
          `    Test-ApplicationAccessPolicy -Identity 'o''neil@contoso.example' -AppId ${app} | Format-List\n}`,
        ),
    ).toBe(true);
    // Both ways are in each script; the parameter picks one.
    expect(script(base)).toContain('New-ApplicationAccessPolicy -AppId');
    expect(ps).toContain('New-ManagementRoleAssignment -Name');
  });

  it('scopes nothing where nothing needs it: IMAP/POP/SMTP alone, or no mailboxes', () => {
    const imapSmtp = script({ ...base, needs: exchangeNeeds(pick('exchange-imap', 'exchange-smtp')) });
    expect(imapSmtp).not.toContain('$Scoping');
    expect(imapSmtp).not.toContain('New-ManagementScope');
    expect(imapSmtp).not.toContain('New-ApplicationAccessPolicy');
    expect(
      imapSmtp
        .trimEnd()
        .endsWith(
          `Get-MailboxPermission -Identity 'o''neil@contoso.example' -User ${sp} | Format-Table -Property 'Identity', 'User', 'AccessRights'`,
        ),
    ).toBe(true);
    const none = exchangeSetupCommands({ ...base, mailboxes: [] });
    expect(none).toContain(
      `#    Add-MailboxPermission -Identity <mailbox> -User ${sp} -AccessRights FullAccess -Confirm:$false`,
    );
    expect(code(none)).not.toContain('Add-MailboxPermission');
    expect(code(none)).not.toContain('New-ManagementScope');
    expect(none).toContain('#    No mailboxes were given, so there is nothing to limit the app to: skipped.');
  });

  it("adds the app to the tenant's EWS allow-list, keeping the ids already on it", () => {
    const ews = ewsAllowListSteps(base.appId);
    expect(ews).toContain('since 1 October 2026 Exchange Online blocks EWS unless the tenant allows it');
    expect(ews).toContain('On 1 April 2027 EWS in Exchange Online is\n# switched off for good');
    expect(ews).toContain(
      '$ewsConfig = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy\n' +
        "$ewsAllowed = @((@($ewsConfig.EwsAllowedAppIDs) -join ',') -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })\n" +
        `if ($ewsAllowed -contains ${app}) {\n` +
        `    Write-Host 'EWS allow-list entry for app ${base.appId}: already present, left as it is.'\n` +
        '} else {\n' +
        // The union: every id already listed, then this app's.
        `    Set-OrganizationConfig -EwsAllowedAppIDs ((@($ewsAllowed) + ${app}) -join ',') -Confirm:$false\n`,
    );
    expect(ews).toContain(
      'if ($ewsConfig.EwsEnabled -eq $true) {\n' +
        "    Write-Host 'EWSEnabled True: already present, left as it is.'\n" +
        '} else {\n',
    );
    expect(ews).toContain('    Set-OrganizationConfig -EwsEnabled $true -Confirm:$false\n');
    expect(ews).not.toMatch(/EwsAllowedAppIDs '/);
    expect(ewsAllowListSteps("x'y")).toContain("-contains 'x''y'");

    const withEws = script({ ...base, needs: exchangeNeeds(pick('exchange-imap', 'exchange-ews')) });
    expect(withEws).toContain(ewsAllowListSteps(base.appId, 5));
    expect(withEws).toContain(
      "# It also puts the app on the tenant's EWS allow-list, keeping the apps already on it.",
    );
    expect(script(base)).not.toContain('EwsAllowedAppIDs');
  });

  it('guards every change and says what it left as it is', () => {
    const v = {
      ...base,
      needs: exchangeNeeds(pick('exchange-imap', 'exchange-smtp', 'graph-mail', 'exchange-ews')),
    };
    const ps = script(v);
    // Service principal, 2 × FullAccess, SendAs, scope, 3 role assignments, 2 × group member, policy, EWS list,
    // EWSEnabled.
    expect(ps.match(/already present, left as it is/g)).toHaveLength(14);
    for (const line of code(ps)
      .split('\n')
      .filter((l) => /^\s*(New|Add|Set)-/.test(l)))
      expect(line).toMatch(/ -Confirm:\$false( \| Out-Null)?$/);
  });

  it('keeps a hostile tenant or application name inside its comment or string', () => {
    const ps = script({
      ...base,
      tenantName: "Evil\nRemove-Mailbox -Identity 'ceo'",
      servicePrincipalName: "x'; Remove-Mailbox 'ceo",
    });
    expect(ps).not.toMatch(/^Remove-Mailbox/m);
    expect(ps).toContain("-DisplayName 'x''; Remove-Mailbox ''ceo' -Confirm:$false");
    expect(ps).toContain('# Generated: 2026-11-20T10:00:00.000Z by Consent Broker (https://broker.example)');
  });

  it('for a mailbox an access policy leaves out, gives the commands to find and fix it', () => {
    const ps = mailboxAccessCommands(base, "o'neil@contoso.example");
    expect(ps).toContain(`Test-ApplicationAccessPolicy -Identity 'o''neil@contoso.example' -AppId ${app}`);
    expect(ps).toContain(
      `Test-ServicePrincipalAuthorization -Identity ${sp} -Resource 'o''neil@contoso.example'`,
    );
    expect(ps).toContain("New-ManagementRoleAssignment -Role 'Application Mail.ReadWrite'");
    expect(code(ps)).not.toContain('-Organization');
  });

  it('uses the initial domain, else another, else the tenant id, for the example sign-in', () => {
    const id = base.tenantId;
    expect(
      organizationFor(id, [
        { name: 'contoso.example', isInitial: false },
        { name: 'contoso.onmicrosoft.com', isInitial: true },
      ]),
    ).toBe('contoso.onmicrosoft.com');
    expect(organizationFor(id, [{ name: 'a.example' }, { name: 'b.onmicrosoft.com' }])).toBe(
      'b.onmicrosoft.com',
    );
    expect(organizationFor(id, [{ name: 'a.example' }])).toBe('a.example');
    expect(organizationFor(id, [])).toBe(id);
    expect(exchangeSetupCommands({ ...base, organization: id })).toContain(
      '(e.g. admin@contoso.onmicrosoft.com)',
    );
  });
});
