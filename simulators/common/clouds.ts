/**
 * The Microsoft cloud a simulated world stands for: the issuers its Entra ID writes into tokens and the App ID
 * URIs of Microsoft's own APIs there. Tokens of one cloud are not accepted in another and each cloud's
 * resources have their own identifiers (https://learn.microsoft.com/graph/deployments), so a world of one cloud
 * refuses the others' resources (AADSTS500011) and audiences, as Microsoft's clouds do. Kept apart from the
 * broker's own table (src/cloud/clouds.ts) on purpose: the stand-in checks the broker, not itself.
 * Sources: FACTS.md §12, §15; MSAL's built-in metadata (`npm:@azure/msal-common@16.17.0:dist/authority/
 * AuthorityMetadata.mjs`) for the v2 issuers; microsoft/CSS-Exchange `Get-CloudServiceEndpoint.ps1` for Exchange.
 * @module
 */

export type SimCloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureUSGovernmentDoD' | 'AzureChinaCloud';

export interface SimCloud {
  readonly name: SimCloudName;
  /** `iss` of v1 tokens, before `{tid}/`. */
  readonly v1IssuerBase: string;
  /** `iss` of v2 tokens and ID tokens, before `/{tid}/v2.0`: not the simulator's own URL. */
  readonly v2IssuerBase: string;
  /** Microsoft Graph's App ID URIs (the first is the `aud` of a v1 token asked by app id). */
  readonly graphUris: readonly string[];
  /** Exchange Online's. */
  readonly exchangeUris: readonly string[];
  /** Azure Key Vault's resource, as its challenge names it. */
  readonly keyVaultResource: string;
}

export const SIM_CLOUDS: Readonly<Record<SimCloudName, SimCloud>> = {
  AzureCloud: {
    name: 'AzureCloud',
    v1IssuerBase: 'https://sts.windows.net',
    v2IssuerBase: 'https://login.microsoftonline.com',
    graphUris: ['https://graph.microsoft.com'],
    exchangeUris: ['https://outlook.office365.com', 'https://outlook.office.com', 'https://ps.outlook.com'],
    keyVaultResource: 'https://vault.azure.net',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    v1IssuerBase: 'https://sts.windows.net',
    v2IssuerBase: 'https://login.microsoftonline.us',
    graphUris: ['https://graph.microsoft.us'],
    exchangeUris: ['https://outlook.office365.us'],
    keyVaultResource: 'https://vault.usgovcloudapi.net',
  },
  AzureUSGovernmentDoD: {
    name: 'AzureUSGovernmentDoD',
    v1IssuerBase: 'https://sts.windows.net',
    v2IssuerBase: 'https://login.microsoftonline.us',
    graphUris: ['https://dod-graph.microsoft.us'],
    exchangeUris: ['https://outlook-dod.office365.us'],
    keyVaultResource: 'https://vault.usgovcloudapi.net',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    v1IssuerBase: 'https://sts.chinacloudapi.cn',
    v2IssuerBase: 'https://login.partner.microsoftonline.cn',
    graphUris: ['https://microsoftgraph.chinacloudapi.cn'],
    exchangeUris: ['https://partner.outlook.cn'],
    keyVaultResource: 'https://vault.azure.cn',
  },
};

/**
 * The cloud named `name` (BROKER_CLOUD's spelling, any case); the public cloud for none or an unknown name, which
 * the broker's own settings then refuse with their message.
 */
export function simCloudOrPublic(name: string | undefined): SimCloud {
  const wanted = name?.trim().toLowerCase();
  return Object.values(SIM_CLOUDS).find((c) => c.name.toLowerCase() === wanted) ?? SIM_CLOUDS.AzureCloud;
}

export const v1Issuer = (cloud: SimCloud, tid: string): string => `${cloud.v1IssuerBase}/${tid}/`;
export const v2Issuer = (cloud: SimCloud, tid: string): string => `${cloud.v2IssuerBase}/${tid}/v2.0`;

/** Whether `aud` names one of `uris` (with or without a trailing slash, any case) or `appId`. */
export function audienceIn(aud: unknown, uris: readonly string[], appId: string): boolean {
  const auds = Array.isArray(aud) ? aud : [aud];
  return auds.some(
    (a) =>
      typeof a === 'string' &&
      (a.toLowerCase() === appId ||
        uris.some((u) => u.toLowerCase() === a.replace(/\/+$/, '').toLowerCase())),
  );
}
