/**
 * The security settings of the infrastructure are present with the intended values: storage only by Entra
 * identity over TLS 1.2, the Functions app HTTPS-only with TLS 1.2 and no FTP or basic-auth publishing, the vault
 * with RBAC authorization, soft delete and purge protection.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { block, propertyValue, readBicep, resources } from './bicep.js';

const storage = readBicep('infra/app/storage.bicep');
const fn = readBicep('infra/app/function-app.bicep');
const vault = readBicep('infra/app/keyvault.bicep');

describe('storage account (infra/app/storage.bicep)', () => {
  const account = resources(storage, 'Microsoft.Storage/storageAccounts').get('account')!;

  it('disables shared-key access, so only Entra identities get in', () => {
    expect(propertyValue(account, 'allowSharedKeyAccess')).toBe('false');
    expect(propertyValue(account, 'defaultToOAuthAuthentication')).toBe('true');
  });

  it('serves HTTPS only with TLS 1.2 at least, and no anonymous blob access', () => {
    expect(propertyValue(account, 'supportsHttpsTrafficOnly')).toBe('true');
    expect(propertyValue(account, 'minimumTlsVersion')).toBe("'TLS1_2'");
    expect(propertyValue(account, 'allowBlobPublicAccess')).toBe('false');
  });
});

describe('Functions app (infra/app/function-app.bicep)', () => {
  const site = resources(fn, 'Microsoft.Web/sites').get('site')!;
  const siteConfig = block(site, 'siteConfig: {');

  it('is HTTPS only, with TLS 1.2 at least on the app and its SCM site', () => {
    expect(propertyValue(site, 'httpsOnly')).toBe('true');
    expect(propertyValue(siteConfig, 'minTlsVersion')).toBe("'1.2'");
    expect(propertyValue(siteConfig, 'scmMinTlsVersion')).toBe("'1.2'");
  });

  it('has FTP off', () => {
    expect(propertyValue(siteConfig, 'ftpsState')).toBe("'Disabled'");
  });

  it('has basic-auth publishing off for FTP and SCM', () => {
    const policies = [...resources(fn, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies').values()];
    const byName = new Map(policies.map((p) => [propertyValue(p, 'name'), p]));
    expect([...byName.keys()].sort()).toEqual(["'ftp'", "'scm'"]);
    for (const p of byName.values()) expect(block(p, 'properties: {').trim()).toBe('allow: false');
  });

  it('runs on Flex Consumption with Node 22 and a managed identity', () => {
    const plan = resources(fn, 'Microsoft.Web/serverfarms').get('plan')!;
    expect(propertyValue(plan, 'tier')).toBe("'FlexConsumption'");
    const runtime = block(site, 'runtime: {');
    expect(propertyValue(runtime, 'name')).toBe("'node'");
    expect(propertyValue(runtime, 'version')).toBe("'22'");
    expect(propertyValue(block(site, 'identity: {'), 'type')).toBe("'UserAssigned'");
    expect(propertyValue(block(site, 'authentication: {'), 'type')).toBe("'UserAssignedIdentity'");
  });
});

describe('Key Vault (infra/app/keyvault.bicep)', () => {
  const kv = resources(vault, 'Microsoft.KeyVault/vaults').get('vault')!;

  it('authorizes by Azure RBAC, not access policies', () => {
    expect(propertyValue(kv, 'enableRbacAuthorization')).toBe('true');
    expect(kv).not.toContain('accessPolicies');
  });

  it('keeps deleted secrets recoverable: soft delete and purge protection', () => {
    expect(propertyValue(kv, 'enableSoftDelete')).toBe('true');
    expect(propertyValue(kv, 'enablePurgeProtection')).toBe('true');
    const days = Number(propertyValue(kv, 'softDeleteRetentionInDays'));
    expect(days).toBeGreaterThanOrEqual(7);
    expect(days).toBeLessThanOrEqual(90);
  });
});
