/**
 * BROKER_CLOUD (src/config.ts, src/cloud/clouds.ts): one setting sets every cloud default; explicit hosts still
 * win; settings that point at two clouds stop the start, naming both.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { loadConfig } from '../../src/config.js';

const valid = {
  BROKER_PUBLIC_URL: 'https://broker.example.com',
  HOME_APP_CLIENT_ID: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
  HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
  KEY_VAULT_URL: 'https://broker.vault.usgovcloudapi.net',
  BROKER_STORAGE__tableServiceUri: 'https://broker.table.core.usgovcloudapi.net',
  VENDOR_TENANT_ID: '5f3c7a1e-0b6d-4c2e-9a41-7d8e2f1b6c30',
};

describe('BROKER_CLOUD', () => {
  it('defaults to the public cloud', () => {
    const c = loadConfig({
      ...valid,
      KEY_VAULT_URL: 'https://broker.vault.azure.net',
      BROKER_STORAGE__tableServiceUri: 'https://broker.table.core.windows.net',
    });
    expect(c.cloud.name).toBe('AzureCloud');
    expect(c.exchangeEwsUrl).toBe('https://outlook.office365.com/EWS/Exchange.asmx');
  });

  it.each([
    [
      'AzureUSGovernment',
      'https://login.microsoftonline.us',
      'https://graph.microsoft.us',
      'https://outlook.office365.us/EWS/Exchange.asmx',
    ],
    [
      'AzureUSGovernmentDoD',
      'https://login.microsoftonline.us',
      'https://dod-graph.microsoft.us',
      'https://outlook-dod.office365.us/EWS/Exchange.asmx',
    ],
  ])('%s sets the Entra, Graph and EWS defaults', (cloud, entra, graph, ews) => {
    const c = loadConfig({ ...valid, BROKER_CLOUD: cloud });
    expect(c).toMatchObject({ entraAuthorityHost: entra, graphEndpoint: graph, exchangeEwsUrl: ews });
    expect(c.cloud.name).toBe(cloud);
  });

  it('reads the name in any case, and refuses an unknown one naming the choices', () => {
    expect(loadConfig({ ...valid, BROKER_CLOUD: 'azureusgovernment' }).cloud.name).toBe('AzureUSGovernment');
    expect(problemsOf({ ...valid, BROKER_CLOUD: 'USGov' })).toEqual([
      'BROKER_CLOUD must be one of AzureCloud, AzureUSGovernment, AzureUSGovernmentDoD, AzureChinaCloud, got "USGov"',
    ]);
  });

  it('lets explicit hosts win: a stand-in or a proxy tells nothing of its cloud', () => {
    const c = loadConfig({
      ...valid,
      BROKER_CLOUD: 'AzureUSGovernment',
      ENTRA_AUTHORITY_HOST: 'https://localhost:4443',
      GRAPH_ENDPOINT: 'https://graph-proxy.example.com',
    });
    expect(c).toMatchObject({
      entraAuthorityHost: 'https://localhost:4443',
      graphEndpoint: 'https://graph-proxy.example.com',
    });
  });

  it('refuses a China authority with the public Graph, naming both settings', () => {
    const china = {
      ...valid,
      KEY_VAULT_URL: 'https://localhost:8443',
      BROKER_STORAGE__tableServiceUri: 'https://localhost:10002/devstoreaccount1',
    };
    expect(
      problemsOf({
        ...china,
        ENTRA_AUTHORITY_HOST: 'https://login.chinacloudapi.cn',
        GRAPH_ENDPOINT: 'https://graph.microsoft.com',
      }),
    ).toEqual([
      'ENTRA_AUTHORITY_HOST (https://login.chinacloudapi.cn) is in AzureChinaCloud, but BROKER_CLOUD is AzureCloud (its default), as GRAPH_ENDPOINT (https://graph.microsoft.com) is: a broker serves one cloud; set BROKER_CLOUD=AzureChinaCloud or ENTRA_AUTHORITY_HOST to a host of AzureCloud',
    ]);
    expect(
      problemsOf({
        ...china,
        BROKER_CLOUD: 'AzureChinaCloud',
        ENTRA_AUTHORITY_HOST: 'https://login.chinacloudapi.cn',
        GRAPH_ENDPOINT: 'https://graph.microsoft.com',
      }),
    ).toEqual([
      'GRAPH_ENDPOINT (https://graph.microsoft.com) is in AzureCloud, but BROKER_CLOUD is AzureChinaCloud, as ENTRA_AUTHORITY_HOST (https://login.chinacloudapi.cn) is: a broker serves one cloud; set BROKER_CLOUD=AzureCloud or GRAPH_ENDPOINT to a host of AzureChinaCloud',
    ]);
  });

  it('refuses a setting of another cloud than BROKER_CLOUD, also when BROKER_CLOUD is left to its default', () => {
    expect(
      problemsOf({
        ...valid,
        BROKER_CLOUD: 'AzureUSGovernmentDoD',
        GRAPH_ENDPOINT: 'https://graph.microsoft.us',
      }),
    ).toEqual([
      'GRAPH_ENDPOINT (https://graph.microsoft.us) is in AzureUSGovernment, but BROKER_CLOUD is AzureUSGovernmentDoD, as KEY_VAULT_URL (https://broker.vault.usgovcloudapi.net) and BROKER_STORAGE__tableServiceUri (https://broker.table.core.usgovcloudapi.net) are: a broker serves one cloud; set BROKER_CLOUD=AzureUSGovernment or GRAPH_ENDPOINT to a host of AzureUSGovernmentDoD',
    ]);
    // The vault and the storage account of `valid` are Azure Government's.
    expect(problemsOf(valid)).toEqual([
      'KEY_VAULT_URL (https://broker.vault.usgovcloudapi.net) is in AzureUSGovernment or AzureUSGovernmentDoD, but BROKER_CLOUD is AzureCloud (its default): a broker serves one cloud; set BROKER_CLOUD=AzureUSGovernment or KEY_VAULT_URL to a host of AzureCloud',
      'BROKER_STORAGE__tableServiceUri (https://broker.table.core.usgovcloudapi.net) is in AzureUSGovernment or AzureUSGovernmentDoD, but BROKER_CLOUD is AzureCloud (its default): a broker serves one cloud; set BROKER_CLOUD=AzureUSGovernment or BROKER_STORAGE__tableServiceUri to a host of AzureCloud',
    ]);
  });
});
