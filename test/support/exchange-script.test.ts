/**
 * The generated Exchange PowerShell as PowerShell sees it: parsed with the tree-sitter PowerShell grammar
 * (devDependencies `tree-sitter`, `tree-sitter-powershell`), which must find no syntax error, and every command in
 * it checked against Microsoft's cmdlet reference as src/support/exchange-cmdlets.ts records it: a known cmdlet,
 * only parameters it has, `-Confirm:$false` on each that changes something, and each of those behind an `if` (the
 * look-up that makes a second run change nothing). For every variant: with and without mailboxes, IMAP+SMTP alone
 * and with Graph and EWS, as a script and as console text, with either scoping.
 * @module
 */
import Parser from 'tree-sitter';
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { COMMON_PARAMETERS, cmdletReference, EXCHANGE_CMDLETS } from '../../src/support/exchange-cmdlets.js';
import {
  ewsAllowListSteps,
  exchangeNeeds,
  exchangeSetupCommands,
  exchangeSetupScript,
  mailboxAccessCommands,
  type ExchangeScoping,
  type ExchangeSetupValues,
} from '../../src/support/exchange-setup.js';

const profiles = await loadProfiles(undefined);
const needsOf = (...names: string[]) => exchangeNeeds(names.map((n) => profiles.get(n)!));

const base: ExchangeSetupValues = {
  tenantId: '0f9e8d7c-6b5a-4321-9876-543210fedcba',
  tenantName: 'Contoso',
  organization: 'contoso.onmicrosoft.com',
  appId: '11111111-2222-4333-8444-555555555555',
  servicePrincipalId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  servicePrincipalName: "PBX Vendor's app",
  mailboxes: ['queue@contoso.example', "o'neil@contoso.example"],
  needs: needsOf('exchange-imap', 'exchange-smtp'),
  exchangeEnvironment: 'O365Default',
};
const meta = { generatedAt: new Date('2026-12-02T10:00:00Z'), brokerUrl: 'https://broker.example' };

// tree-sitter-powershell's types name a directory, which NodeNext resolution does not follow; an ES module.
const grammar = 'tree-sitter-powershell';
const { default: PowerShell } = (await import(grammar)) as { default: Parser.Language };
const parser = new Parser();
parser.setLanguage(PowerShell);

type Node = Parser.SyntaxNode;
const walk = (node: Node): Node[] => [node, ...node.children.flatMap(walk)];

/** Syntax errors tree-sitter found, with their line. */
function syntaxErrors(tree: Parser.Tree): string[] {
  return walk(tree.rootNode)
    .filter((n) => n.type === 'ERROR' || n.isMissing)
    .map(
      (n) =>
        `${n.isMissing ? 'missing' : 'error'} at line ${n.startPosition.row + 1}: ${n.text.slice(0, 80)}`,
    );
}

interface Invocation {
  readonly name: string;
  readonly parameters: readonly string[];
  readonly text: string;
  readonly guarded: boolean;
  /** The condition of the `if` around it, and the three statements before that `if` (where the look-up may be). */
  readonly guard: string;
}

/** The look-up that must guard each change, so that a second run finds the object and leaves it as it is. */
const LOOK_UP: Readonly<Record<string, string>> = {
  'New-ServicePrincipal': 'Get-ServicePrincipal',
  'Add-MailboxPermission': 'Get-MailboxPermission',
  'Add-RecipientPermission': 'Get-RecipientPermission',
  'New-ManagementScope': 'Get-ManagementScope',
  'Set-ManagementScope': 'Get-ManagementScope',
  'New-ManagementRoleAssignment': 'Get-ManagementRoleAssignment',
  'Add-DistributionGroupMember': 'Get-DistributionGroupMember',
  'New-ApplicationAccessPolicy': 'Get-ApplicationAccessPolicy',
  'Set-OrganizationConfig': 'Get-OrganizationConfig',
};

function invocations(tree: Parser.Tree): Invocation[] {
  return walk(tree.rootNode)
    .filter((n) => n.type === 'command')
    .map((n) => {
      const name = n.childForFieldName('command_name')?.text ?? n.namedChildren[0]?.text ?? '';
      const parameters = n
        .descendantsOfType('command_parameter')
        // Only this command's own, not those of a command nested in an argument.
        .filter((p) => nearest(p, 'command') === n)
        .map((p) => p.text.replace(/^-/, '').replace(/:$/, ''));
      const outer = nearest(n, 'if_statement');
      const before: string[] = [];
      for (
        let prev = outer?.previousNamedSibling;
        prev && before.length < 3;
        prev = prev.previousNamedSibling
      )
        before.push(prev.text);
      const guard = [outer?.childForFieldName('condition')?.text ?? '', ...before].join('\n');
      return { name, parameters, text: n.text, guarded: outer !== null, guard };
    });
}

function nearest(node: Node, type: string): Node | null {
  for (let up = node.parent; up; up = up.parent) if (up.type === type) return up;
  return null;
}

/** What is wrong with the commands of `text`, measured against the cmdlet table; empty when all is well. */
function problems(text: string): string[] {
  const tree = parser.parse(text);
  const out = syntaxErrors(tree);
  const calls = invocations(tree);
  if (calls.length === 0) out.push('no commands found');
  for (const c of calls) {
    const ref = cmdletReference(c.name);
    if (!ref) {
      out.push(`unknown cmdlet ${c.name}`);
      continue;
    }
    const allowed = new Set([...ref.parameters, ...COMMON_PARAMETERS].map((p) => p.toLowerCase()));
    for (const p of c.parameters)
      if (!allowed.has(p.toLowerCase())) out.push(`${c.name} has no parameter -${p} (${ref.url})`);
    if (ref.changes) {
      if (!/-Confirm:\$false\b/.test(c.text)) out.push(`${c.name} without -Confirm:$false: ${c.text}`);
      if (!c.guarded) out.push(`${c.name} not behind a look-up: ${c.text}`);
      const lookUp = LOOK_UP[c.name];
      if (c.guarded && !c.guard.includes(lookUp ?? '\0'))
        out.push(`${c.name} not guarded by ${lookUp}: ${c.text}`);
    }
  }
  return out;
}

const variants: [string, ExchangeSetupValues][] = [
  ['IMAP+SMTP', base],
  ['IMAP+SMTP, no mailboxes', { ...base, mailboxes: [] }],
  [
    'IMAP+SMTP+Graph+EWS',
    { ...base, needs: needsOf('exchange-imap', 'exchange-smtp', 'graph-mail', 'exchange-ews') },
  ],
  ['EWS alone', { ...base, needs: needsOf('exchange-ews') }],
  [
    'POP+Graph calendar, no mailboxes',
    { ...base, mailboxes: [], needs: needsOf('exchange-pop', 'graph-calendar-contacts') },
  ],
];
const scopings: ExchangeScoping[] = ['rbac', 'accessPolicy'];

describe('the generated PowerShell parses and uses only documented cmdlets and parameters', () => {
  it('the grammar is loaded and does report errors', () => {
    expect(syntaxErrors(parser.parse("if ( { Get-X -A 'b"))).not.toEqual([]);
    expect(problems('Get-Mailbox -Identity x')).toEqual(['unknown cmdlet Get-Mailbox']);
    expect(problems("New-ServicePrincipal -AppId 'a' -ObjectId 'b' -Organisation x")).toEqual([
      `New-ServicePrincipal has no parameter -Organisation (${EXCHANGE_CMDLETS.get('New-ServicePrincipal')!.url})`,
      "New-ServicePrincipal without -Confirm:$false: New-ServicePrincipal -AppId 'a' -ObjectId 'b' -Organisation x",
      "New-ServicePrincipal not behind a look-up: New-ServicePrincipal -AppId 'a' -ObjectId 'b' -Organisation x",
    ]);
  });

  it('finds a change guarded by the wrong look-up, or by none', () => {
    const create = "New-ServicePrincipal -AppId 'a' -ObjectId 'b' -Confirm:$false";
    expect(problems(`$y = 1\nif (Get-ServicePrincipal -Identity 'a') { } else { ${create} }`)).toEqual([]);
    expect(problems(`$y = Get-ServicePrincipal -Identity 'a'\nif (-not $y) { ${create} }`)).toEqual([]);
    expect(problems(`if (Get-Mailbox -Identity 'a') { ${create} }`)).toEqual([
      'unknown cmdlet Get-Mailbox',
      `New-ServicePrincipal not guarded by Get-ServicePrincipal: ${create}`,
    ]);
  });

  it('sees every command of the full script, with its own parameters', () => {
    const full = exchangeSetupScript(variants[2]![1], meta);
    const calls = invocations(parser.parse(full));
    expect(new Set(calls.map((c) => c.name))).toEqual(
      new Set([
        'Connect-ExchangeOnline',
        'Get-ServicePrincipal',
        'Where-Object',
        'Write-Host',
        'New-ServicePrincipal',
        'Out-Null',
        'Get-MailboxPermission',
        'Add-MailboxPermission',
        'Get-RecipientPermission',
        'Add-RecipientPermission',
        'Get-ManagementScope',
        'New-ManagementScope',
        'Set-ManagementScope',
        'Get-ManagementRoleAssignment',
        'New-ManagementRoleAssignment',
        'Get-DistributionGroup',
        'Get-DistributionGroupMember',
        'ForEach-Object',
        'Add-DistributionGroupMember',
        'Get-ApplicationAccessPolicy',
        'New-ApplicationAccessPolicy',
        'Get-OrganizationConfig',
        'Set-OrganizationConfig',
        'Format-List',
        'Format-Table',
        'Test-ServicePrincipalAuthorization',
        'Test-ApplicationAccessPolicy',
      ]),
    );
    expect(calls.find((c) => c.name === 'New-ManagementRoleAssignment')?.parameters).toEqual([
      'Name',
      'Role',
      'App',
      'CustomResourceScope',
      'Confirm',
    ]);
    expect(calls.filter((c) => c.name === 'Set-OrganizationConfig').map((c) => c.parameters)).toEqual([
      ['EwsAllowedAppIDs', 'Confirm'],
      ['EwsEnabled', 'Confirm'],
    ]);
  });

  for (const [label, v] of variants)
    for (const scoping of scopings) {
      it(`script, ${label}, -Scoping default ${scoping}`, () => {
        expect(problems(exchangeSetupScript(v, { ...meta, scoping }))).toEqual([]);
      });
      it(`console text, ${label}, ${scoping}`, () => {
        expect(problems(exchangeSetupCommands(v, { scoping }))).toEqual([]);
      });
    }

  it('the EWS allow-list step and the commands for one refused mailbox', () => {
    expect(problems(ewsAllowListSteps(base.appId))).toEqual([]);
    const withGraph = { ...base, needs: needsOf('graph-mail', 'exchange-ews') };
    // A remediation to read and pick from, not a script: its New- lines are not behind a look-up.
    expect(
      problems(mailboxAccessCommands(withGraph, "o'neil@contoso.example")).filter(
        (p) => !p.includes('look-up'),
      ),
    ).toEqual([]);
  });

  it('a hostile tenant or application name stays inside its comment or string', () => {
    const script = exchangeSetupScript(
      {
        ...base,
        tenantName: "Evil\n} Remove-Mailbox -Identity 'ceo' {",
        servicePrincipalName: "x'; Remove-Mailbox 'ceo'; '",
        needs: needsOf('exchange-imap', 'exchange-smtp', 'graph-mail', 'exchange-ews'),
      },
      meta,
    );
    expect(problems(script)).toEqual([]);
    expect(invocations(parser.parse(script)).map((c) => c.name)).not.toContain('Remove-Mailbox');
  });
});
