/**
 * The pieces of the Exchange PowerShell (src/support/powershell.ts, mailbox-address.ts, exchange-setup.ts):
 * quoting, address rules, and what the script contains for each set of profiles.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import {
  exchangeNeeds,
  exchangeSetupCommands,
  exchangeSetupScript,
  mailboxAccessCommands,
  organizationFor,
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
  it('derives what Exchange needs from the profiles (FACTS.md §6.2, §6.5)', () => {
    expect(exchangeNeeds(pick('exchange-imap'))).toEqual({
      mailboxAccess: true,
      sendAs: false,
      protocols: ['IMAP'],
      rbacRoles: [],
    });
    expect(exchangeNeeds(pick('exchange-smtp', 'exchange-ews', 'graph-mail'))).toEqual({
      mailboxAccess: true,
      sendAs: true,
      protocols: ['SMTP'],
      rbacRoles: ['Application EWS.AccessAsApp', 'Application Mail.ReadWrite', 'Application Mail.Send'],
    });
  });

  it('registers the enterprise application with -ObjectId and grants each mailbox', () => {
    const ps = exchangeSetupCommands(base);
    expect(ps).toContain("Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com'");
    expect(ps).toContain(
      "New-ServicePrincipal -AppId '11111111-2222-4333-8444-555555555555' -ObjectId 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' -DisplayName 'PBX Vendor'",
    );
    expect(ps).not.toMatch(/^[^#]*-ServiceId/m);
    expect(ps).toContain(
      "Add-MailboxPermission -Identity 'o''neil@contoso.example' -User 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' -AccessRights FullAccess",
    );
    expect(ps).toContain(
      "Add-RecipientPermission 'queue@contoso.example' -AccessRights SendAs -Trustee 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'",
    );
    expect(ps).toContain(
      `New-ManagementScope -Name 'PBX Vendor mailboxes' -RecipientRestrictionFilter 'PrimarySmtpAddress -eq "queue@contoso.example" -or PrimarySmtpAddress -eq "o''neil@contoso.example"'`,
    );
    expect(ps).toContain(
      "New-ManagementRoleAssignment -Role 'Application Mail.Send' -App 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' -CustomResourceScope 'PBX Vendor mailboxes'",
    );
    expect(ps).toContain(
      "Test-ServicePrincipalAuthorization -Identity 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' -Resource 'queue@contoso.example'",
    );
    expect(ps.trimEnd().endsWith('Get-ServicePrincipal | fl')).toBe(true);
    // Every PowerShell step cites its FACTS.md section.
    for (const n of [
      '§6.2 step 2',
      '§6.2 step 3',
      '§13',
      '§6.2 step 4',
      '§6.2 step 5',
      '§6.5',
      '§6.2 step 6',
    ])
      expect(ps).toContain(`FACTS.md ${n}`);
  });

  it('without mailboxes, says how to grant one instead of granting none silently', () => {
    const ps = exchangeSetupCommands({ ...base, mailboxes: [] });
    expect(ps).toContain(
      "#    Add-MailboxPermission -Identity <mailbox> -User 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'",
    );
    expect(ps).not.toMatch(/^Add-MailboxPermission/m);
    expect(ps).not.toContain('New-ManagementScope');
  });

  it('keeps a hostile tenant or application name inside its comment or string', () => {
    const script = exchangeSetupScript(
      {
        ...base,
        tenantName: "Evil\nRemove-Mailbox -Identity 'ceo'",
        servicePrincipalName: "x'; Remove-Mailbox 'ceo",
      },
      { generatedAt: new Date('2026-11-20T10:00:00Z'), brokerUrl: 'https://broker.example' },
    );
    expect(script).not.toMatch(/^Remove-Mailbox/m);
    expect(script).toContain("-DisplayName 'x''; Remove-Mailbox ''ceo'");
    expect(script).toContain(
      '# Generated: 2026-11-20T10:00:00.000Z by Consent Broker (https://broker.example)',
    );
  });

  it('for a mailbox an access policy leaves out, gives the commands to find and fix it (FACTS.md §6.4, §6.5)', () => {
    const ps = mailboxAccessCommands(base, "o'neil@contoso.example");
    expect(ps).toContain(
      "Test-ApplicationAccessPolicy -Identity 'o''neil@contoso.example' -AppId '11111111-2222-4333-8444-555555555555'",
    );
    expect(ps).toContain(
      "Test-ServicePrincipalAuthorization -Identity 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' -Resource 'o''neil@contoso.example'",
    );
    expect(ps).toContain("New-ManagementRoleAssignment -Role 'Application Mail.ReadWrite'");
  });

  it('connects with the initial domain, else another, else the tenant id', () => {
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
  });
});
