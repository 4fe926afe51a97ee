/**
 * `azd up` after `azd down`: the deleted vault stays soft-deleted with purge protection for its
 * retention and keeps its name, so the vault's name must change with each incarnation of the environment and stay
 * the same across provisionings of one incarnation. Read from the Bicep text (no compiler here, see bicep.ts): the
 * name hashes the app identity's principal id (new when `azd down` has deleted the identity with its resource
 * group), never a per-run value, and fits Key Vault's 3–24 characters.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { block, propertyValue, readBicep, readRepoFile, resources } from './bicep.js';

const main = readBicep('infra/main.bicep');
const vaultModule = block(main, "module vault 'app/keyvault.bicep' = {");
const vaultBicep = readBicep('infra/app/keyvault.bicep');

/**
 * The expression the vault module gets as `name` when no existing vault is pinned: a `var` it names is resolved,
 * and of `empty(keyVaultName) ? <computed> : keyVaultName` the computed branch is taken.
 */
function vaultNameExpression(): string {
  const value = propertyValue(block(vaultModule, 'params: {'), 'name');
  const expression = (new RegExp(`^var ${value} = (.+)$`, 'm').exec(main)?.[1] ?? value).trim();
  const pinned = /^empty\(keyVaultName\) \? (.+) : keyVaultName$/.exec(expression);
  return pinned ? pinned[1]! : expression;
}

describe('Key Vault name across azd down / azd up (infra/main.bicep)', () => {
  it("hashes the app identity's principal id, so a redeployment after azd down gets a new name", () => {
    const identity = resources(main, 'Microsoft.ManagedIdentity/userAssignedIdentities').get('identity');
    expect(identity).toBeDefined();
    const name = vaultNameExpression();
    expect(name).toMatch(/uniqueString\([^)]*identity\.properties\.principalId[^)]*\)/);
    expect(name).toContain('resourceToken');
    // The identity whose principal id names the vault is the one the app runs as.
    const app = block(main, "module functionApp 'app/function-app.bicep' = {");
    expect(propertyValue(block(app, 'params: {'), 'identityId')).toBe('identity.id');
  });

  it('keeps the name for every provisioning of the same environment (no per-run value)', () => {
    for (const perRun of ['utcNow(', 'newGuid(', 'deployment().name']) expect(main).not.toContain(perRun);
  });

  it("fits Key Vault's 24 characters: 'kv-broker-' and 12 characters of the hash", () => {
    const name = vaultNameExpression();
    const m = /^'(kv-broker-)\$\{take\(uniqueString\(.+\), (\d+)\)\}'$/.exec(name);
    expect(m, name).not.toBeNull();
    expect(m![1]!.length + Number(m![2])).toBeLessThanOrEqual(24);
    expect(vaultBicep).toMatch(/@maxLength\(24\)\s*\nparam name string/);
  });

  it("does not pin createMode: 'recover' fails without a deleted vault, and the vault stays purge-protected", () => {
    expect(vaultBicep).not.toMatch(/createMode:\s*'recover'/);
    const kv = resources(vaultBicep, 'Microsoft.KeyVault/vaults').get('vault')!;
    expect(propertyValue(kv, 'enablePurgeProtection')).toBe('true');
  });

  it('can be pinned to an existing vault (a deployment made before this naming), empty by default', () => {
    expect(main).toMatch(/^@maxLength\(24\)\nparam keyVaultName string = ''$/m);
    const params = JSON.parse(readRepoFile('infra/main.parameters.json')) as {
      parameters: Record<string, { value: string }>;
    };
    expect(params.parameters.keyVaultName?.value).toBe('${BROKER_KEY_VAULT_NAME=}');
  });

  it('is documented in infra/README.md', () => {
    const readme = readRepoFile('infra/README.md');
    expect(readme).toContain('## Redeploy after `azd down`');
    expect(readme).toContain('createMode');
  });
});
