/**
 * Each identity-based connection of the app has its role assignment, with the right built-in role, on the right
 * resource, for the app's own identity, and there are no others. Role definition ids are the built-in roles' GUIDs
 * (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles; source:
 * MicrosoftDocs/azure-docs:articles/role-based-access-control/built-in-roles.md).
 * @module
 */
import { describe, expect, it } from 'vitest';
import { appSettingNames, propertyValue, readBicep, readRepoFile, resources, stringVars } from './bicep.js';

const BUILT_IN = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
} as const;

interface Assignment {
  readonly symbol: string;
  readonly scope: string;
  readonly roleId: string;
  readonly principal: string;
}

const rbac = readBicep('infra/app/role-assignments.bicep');
const vars = stringVars(rbac);
const assignments: Assignment[] = [...resources(rbac, 'Microsoft.Authorization/roleAssignments')].map(
  ([symbol, body]) => {
    const roleExpr = propertyValue(body, 'roleDefinitionId');
    const roleVar = /roleDefinitions', (\w+)\)$/.exec(roleExpr)?.[1];
    const roleId = roleVar ? vars.get(roleVar) : undefined;
    if (!roleId) throw new Error(`${symbol}: roleDefinitionId is not a role id variable: ${roleExpr}`);
    return {
      symbol,
      scope: propertyValue(body, 'scope'),
      roleId,
      principal: propertyValue(body, 'principalId'),
    };
  },
);
const forApp = assignments.filter((a) => a.principal === 'appPrincipalId');
const has = (scope: string, roleId: string) => forApp.some((a) => a.scope === scope && a.roleId === roleId);

const settings = appSettingNames(readBicep('infra/app/function-app.bicep'));
const main = readBicep('infra/main.bicep');

describe('role assignments (infra/app/role-assignments.bicep)', () => {
  it('reads every assignment', () => {
    expect(assignments.length).toBeGreaterThanOrEqual(3);
  });

  it('AzureWebJobsStorage__accountName: the host storage account grants Storage Blob Data Owner', () => {
    // Host keys, timer schedule status and locks, and the Flex Consumption deployment package live in blobs.
    expect(settings).toContain('AzureWebJobsStorage__accountName');
    expect(has('storage', BUILT_IN.storageBlobDataOwner)).toBe(true);
  });

  it('BROKER_STORAGE__tableServiceUri: the same account grants Storage Table Data Contributor', () => {
    expect(settings).toContain('BROKER_STORAGE__tableServiceUri');
    expect(has('storage', BUILT_IN.storageTableDataContributor)).toBe(true);
  });

  it('KEY_VAULT_URL: the vault grants Key Vault Secrets Officer, because the broker writes and deletes secrets', () => {
    expect(settings).toContain('KEY_VAULT_URL');
    // What the broker does with its vault: Secrets User (read only) would not allow these.
    const adapter = readRepoFile('src/adapters/keyvault/keyvault-secrets.ts');
    for (const call of ['client.getSecret(', 'client.setSecret(', 'client.beginDeleteSecret(']) {
      expect(adapter).toContain(call);
    }
    expect(readRepoFile('src/keys/broker-keys.ts')).toContain('secrets.set(BROKER_KEY_SECRET_NAME');
    expect(has('vault', BUILT_IN.keyVaultSecretsOfficer)).toBe(true);
  });

  it('mailbox grants: the grants key, and only it, grants Key Vault Crypto User (wrap and unwrap)', () => {
    const adapter = readRepoFile('src/adapters/keyvault/keyvault-keys.ts');
    for (const call of ['.wrapKey(', '.unwrapKey(']) expect(adapter).toContain(call);
    expect(readRepoFile('src/grants/custody.ts')).toContain("GRANTS_KEY_NAME = 'mailbox-grants'");
    expect(readBicep('infra/app/keyvault.bicep')).toMatch(
      /resource grantsKey 'Microsoft\.KeyVault\/vaults\/keys@[^']+' = \{\s*parent: vault\s*name: 'mailbox-grants'/,
    );
    expect(rbac).toMatch(
      /resource grantsKey 'Microsoft\.KeyVault\/vaults\/keys@[^']+' existing = \{\s*parent: vault\s*name: 'mailbox-grants'/,
    );
    expect(has('grantsKey', BUILT_IN.keyVaultCryptoUser)).toBe(true);
  });

  it('grants the app nothing else (no queue role: no queue or blob trigger, no Durable Functions)', () => {
    const expected = [
      `storage ${BUILT_IN.storageBlobDataOwner}`,
      `storage ${BUILT_IN.storageTableDataContributor}`,
      `vault ${BUILT_IN.keyVaultSecretsOfficer}`,
      `grantsKey ${BUILT_IN.keyVaultCryptoUser}`,
    ];
    expect(forApp.map((a) => `${a.scope} ${a.roleId}`).sort()).toEqual(expected.sort());
    expect(forApp.some((a) => a.roleId === BUILT_IN.storageQueueDataContributor)).toBe(false);
  });

  it('binds the scopes to the storage account and the vault that the app settings name', () => {
    expect(rbac).toMatch(
      /resource storage 'Microsoft\.Storage\/storageAccounts@[^']+' existing = \{\s*name: storageAccountName/,
    );
    expect(rbac).toMatch(
      /resource vault 'Microsoft\.KeyVault\/vaults@[^']+' existing = \{\s*name: keyVaultName/,
    );
    // main.bicep: the same storage module output feeds the host setting, the table URI and the assignments.
    expect(main).toMatch(/storageAccountName: storage\.outputs\.name/);
    expect(main).toMatch(/tableServiceUri: storage\.outputs\.tableEndpoint/);
    expect(main).toMatch(/keyVaultName: vault\.outputs\.name/);
    expect(main).toMatch(/keyVaultUrl: vault\.outputs\.uri/);
  });

  it('assigns the roles to the identity the Functions app runs as, and tells the app its client id', () => {
    expect(main).toMatch(/appPrincipalId: identity\.properties\.principalId/);
    expect(main).toMatch(/identityId: identity\.id/);
    expect(main).toMatch(/identityClientId: identity\.properties\.clientId/);
    const fn = readBicep('infra/app/function-app.bicep');
    expect(fn).toMatch(/\{ name: 'AZURE_CLIENT_ID', value: identityClientId \}/);
    expect(fn).toMatch(/\{ name: 'AzureWebJobsStorage__clientId', value: identityClientId \}/);
    // The Functions app must not start before its identity holds the storage roles.
    expect(main).toMatch(/dependsOn: \[roles\]/);
  });

  it('names a role id variable only once per role and uses built-in GUIDs', () => {
    const known = new Set<string>(Object.values(BUILT_IN));
    expect([...vars.values()].filter((id) => !known.has(id))).toEqual([]);
  });
});
