/**
 * The cloud table (src/cloud/clouds.ts): every cell has a source, docs/clouds.md shows the table as it is, and
 * each cloud's values are its own (no public-cloud host left in a national cloud's row).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLOUD_NAMES, cloudNamed, cloudsOfEndpoint, renderCloudTable } from '../../src/cloud/clouds.js';

const PUBLIC_HOSTS =
  /microsoftonline\.com|graph\.microsoft\.com|office365\.com|vault\.azure\.net|core\.windows\.net/;

describe('the cloud table', () => {
  it('is what docs/clouds.md shows', async () => {
    const doc = await readFile(new URL('../../docs/clouds.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderCloudTable());
  });

  it('gives every cell a source, and marks the unverified ones in the rendered table', () => {
    const table = renderCloudTable();
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| |') && !l.startsWith('| ---'));
    expect(rows.length).toBe(14);
    for (const row of rows)
      expect(
        row
          .split('|')
          .slice(2, -1)
          .every((c) => /\[\d+\]/.test(c)),
      ).toBe(true);
    expect(table).toContain('(unverified)');
  });

  it.each(CLOUD_NAMES.filter((n) => n !== 'AzureCloud'))('keeps no public-cloud host in %s', (name) => {
    const c = cloudNamed(name);
    const values = [
      c.authorityHost,
      c.graphEndpoint,
      c.exchangeResource,
      c.ewsUrl,
      c.imapHost,
      c.popHost,
      c.smtpHost,
      c.keyVaultDnsSuffix,
      c.storageDnsSuffix,
      c.v2Issuer('t'),
      c.resourceScopes('exchange').scope,
      ...c.resourceScopes('exchange').aliases,
      c.resourceScopes('graph').scope,
    ];
    expect(values.filter((v) => PUBLIC_HOSTS.test(v))).toEqual([]);
  });

  it('gives China a v2 issuer on another host than its authority (MSAL built-in metadata)', () => {
    const china = cloudNamed('AzureChinaCloud');
    expect(china.authorityHost).toBe('https://login.chinacloudapi.cn');
    expect(china.v2Issuer('abc')).toBe('https://login.partner.microsoftonline.cn/abc/v2.0');
    expect(china.v1Issuer('abc')).toBe('https://sts.chinacloudapi.cn/abc/');
  });

  it('tells the cloud of a Microsoft host, and nothing of any other', () => {
    expect(cloudsOfEndpoint('entra', 'https://login.windows.net')).toEqual(['AzureCloud']);
    expect(cloudsOfEndpoint('entra', 'https://login.microsoftonline.us')).toEqual([
      'AzureUSGovernment',
      'AzureUSGovernmentDoD',
    ]);
    expect(cloudsOfEndpoint('graph', 'https://dod-graph.microsoft.us/')).toEqual(['AzureUSGovernmentDoD']);
    expect(cloudsOfEndpoint('keyVault', 'https://my-vault.vault.azure.cn')).toEqual(['AzureChinaCloud']);
    expect(cloudsOfEndpoint('storage', 'https://acct.table.core.usgovcloudapi.net')).toEqual([
      'AzureUSGovernment',
      'AzureUSGovernmentDoD',
    ]);
    expect(cloudsOfEndpoint('entra', 'https://localhost:4443')).toBeUndefined();
    expect(cloudsOfEndpoint('graph', 'not a url')).toBeUndefined();
  });
});
