/**
 * The Microsoft clouds the broker can serve (`BROKER_CLOUD`), as one table: every host, resource, issuer and
 * PowerShell name that differs between them, each cell with its source. Everything cloud-specific in the broker
 * is read from here (the profiles' scopes, the issuers it checks, the mailbox probes, the consent links, the
 * Exchange script); explicit settings (`ENTRA_AUTHORITY_HOST`, `GRAPH_ENDPOINT`, `EXCHANGE_EWS_URL`) still win
 * for the hosts the broker talks to (src/config.ts). docs/clouds.md is this table, rendered
 * ({@link renderCloudTable}; test/cloud/clouds.test.ts keeps them equal).
 *
 * GCC ("moderate", Office 365 Government Community Cloud) runs on the public cloud's endpoints: it is
 * `AzureCloud` here (https://learn.microsoft.com/graph/deployments: "Microsoft Graph for US Government L4 …
 * GCC customers use the global endpoints").
 * @module
 */

export const CLOUD_NAMES = [
  'AzureCloud',
  'AzureUSGovernment',
  'AzureUSGovernmentDoD',
  'AzureChinaCloud',
] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

/** One cell: its value, where it was read, and whether only a third party or a guess backs it. */
export interface Cell {
  readonly value: string;
  readonly source: string;
  /** True where no Microsoft source (documentation, Microsoft's own code or SDK) was found for the value. */
  readonly unverified?: boolean;
}

/** The cells of the table, in the order docs/clouds.md shows them. */
export const CELL_NAMES = [
  'authorityHost',
  'v1Issuer',
  'v2Issuer',
  'graphEndpoint',
  'exchangeResource',
  'imapHost',
  'popHost',
  'smtpHost',
  'ewsUrl',
  'keyVaultDnsSuffix',
  'storageDnsSuffix',
  'exchangeEnvironmentName',
  'mgGraphEnvironment',
  'azCliCloud',
] as const;
export type CellName = (typeof CELL_NAMES)[number];

const CELL_TITLES: Readonly<Record<CellName, string>> = {
  authorityHost: 'Entra authority host',
  v1Issuer: 'v1 token issuer',
  v2Issuer: 'v2 token issuer',
  graphEndpoint: 'Graph endpoint and resource',
  exchangeResource: 'Exchange Online resource',
  imapHost: 'IMAP host (993)',
  popHost: 'POP host (995)',
  smtpHost: 'SMTP submission host (587)',
  ewsUrl: 'EWS URL',
  keyVaultDnsSuffix: 'Key Vault DNS suffix',
  storageDnsSuffix: 'Storage DNS suffix',
  exchangeEnvironmentName: 'Connect-ExchangeOnline -ExchangeEnvironmentName',
  mgGraphEnvironment: 'Connect-MgGraph -Environment',
  azCliCloud: 'az cloud set --name',
};

/** Sources, named once. */
const S = {
  graphDeployments:
    'https://learn.microsoft.com/graph/deployments ("App registration and token service root endpoints", "Microsoft Graph and Graph Explorer service root endpoints")',
  mgEnvironment:
    'https://learn.microsoft.com/powershell/module/microsoft.graph.authentication/get-mgenvironment (Get-MgEnvironment example)',
  msalMetadata:
    'npm:@azure/msal-common@16.17.0:dist/authority/AuthorityMetadata.mjs (built-in endpoint metadata)',
  v1Public:
    'https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference (`iss` of v1.0 tokens, FACTS.md §4.1)',
  v1Community: 'Microsoft Q&A 1190472 (community answer: US Government v1 tokens name sts.windows.net too)',
  v1China: 'MicrosoftDocs/azure-docs#123050 (a 21Vianet v1 token quoted in the issue)',
  cssExchange:
    'microsoft/CSS-Exchange:Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1 (ExchangeOnlineEndpoint)',
  cssExchangeEws:
    'microsoft/CSS-Exchange EWS scripts: "$($cloudService.ExchangeOnlineEndpoint)/EWS/Exchange.asmx" (e.g. Calendar/Get-CalendarDiagnosticObjectsSummary.ps1)',
  imapPublic:
    'https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth (outlook.office365.com, smtp.office365.com)',
  mailHostGuess:
    'no Microsoft page found: the Exchange Online host of this cloud (CSS-Exchange), as outlook.office365.com serves IMAP and POP in the public cloud',
  smtpHostGuess: 'no Microsoft page found: third-party setup guides only',
  keyVaultDns:
    'MicrosoftDocs/azure-docs:articles/key-vault/general/about-keys-secrets-certificates.md ("DNS suffixes for object identifiers")',
  storageDns:
    'Azure PowerShell built-in environments (Get-AzEnvironment StorageEndpointSuffix; powershellgallery arm-ttk cache/AllEnvironments.cache.json)',
  exoEnvironment:
    'MicrosoftDocs/office-docs-powershell:exchange/docs-conceptual/app-only-auth-powershell-v2.md (-ExchangeEnvironmentName)',
  azCloud:
    'az cloud list (Azure CLI built-in clouds); the same names in CSS-Exchange Get-CloudServiceEndpoint.ps1 (EnvironmentName)',
} as const;

const cell = (value: string, source: string, unverified = false): Cell =>
  unverified ? { value, source, unverified } : { value, source };

const TABLE: Readonly<Record<CloudName, Readonly<Record<CellName, Cell>>>> = {
  AzureCloud: {
    authorityHost: cell('https://login.microsoftonline.com', S.graphDeployments),
    v1Issuer: cell('https://sts.windows.net/{tenantid}/', S.v1Public),
    v2Issuer: cell('https://login.microsoftonline.com/{tenantid}/v2.0', S.msalMetadata),
    graphEndpoint: cell('https://graph.microsoft.com', S.graphDeployments),
    exchangeResource: cell('https://outlook.office365.com', S.imapPublic),
    imapHost: cell('outlook.office365.com', S.imapPublic),
    popHost: cell('outlook.office365.com', S.imapPublic),
    smtpHost: cell('smtp.office365.com', S.imapPublic),
    ewsUrl: cell('https://outlook.office365.com/EWS/Exchange.asmx', S.cssExchangeEws),
    keyVaultDnsSuffix: cell('vault.azure.net', S.keyVaultDns),
    storageDnsSuffix: cell('core.windows.net', S.storageDns),
    exchangeEnvironmentName: cell('O365Default', S.exoEnvironment),
    mgGraphEnvironment: cell('Global', S.mgEnvironment),
    azCliCloud: cell('AzureCloud', S.azCloud),
  },
  AzureUSGovernment: {
    authorityHost: cell('https://login.microsoftonline.us', S.graphDeployments),
    v1Issuer: cell('https://sts.windows.net/{tenantid}/', S.v1Community, true),
    v2Issuer: cell('https://login.microsoftonline.us/{tenantid}/v2.0', S.msalMetadata),
    graphEndpoint: cell('https://graph.microsoft.us', S.graphDeployments),
    exchangeResource: cell('https://outlook.office365.us', S.cssExchange),
    imapHost: cell('outlook.office365.us', S.mailHostGuess, true),
    popHost: cell('outlook.office365.us', S.mailHostGuess, true),
    smtpHost: cell('smtp.office365.us', S.smtpHostGuess, true),
    ewsUrl: cell('https://outlook.office365.us/EWS/Exchange.asmx', S.cssExchangeEws),
    keyVaultDnsSuffix: cell('vault.usgovcloudapi.net', S.keyVaultDns),
    storageDnsSuffix: cell('core.usgovcloudapi.net', S.storageDns),
    exchangeEnvironmentName: cell('O365USGovGCCHigh', S.exoEnvironment),
    mgGraphEnvironment: cell('USGov', S.mgEnvironment),
    azCliCloud: cell('AzureUSGovernment', S.azCloud),
  },
  AzureUSGovernmentDoD: {
    authorityHost: cell('https://login.microsoftonline.us', S.graphDeployments),
    v1Issuer: cell('https://sts.windows.net/{tenantid}/', S.v1Community, true),
    v2Issuer: cell('https://login.microsoftonline.us/{tenantid}/v2.0', S.msalMetadata),
    graphEndpoint: cell('https://dod-graph.microsoft.us', S.graphDeployments),
    exchangeResource: cell('https://outlook-dod.office365.us', S.cssExchange),
    imapHost: cell('outlook-dod.office365.us', S.mailHostGuess, true),
    popHost: cell('outlook-dod.office365.us', S.mailHostGuess, true),
    smtpHost: cell('smtp-dod.office365.us', S.smtpHostGuess, true),
    ewsUrl: cell('https://outlook-dod.office365.us/EWS/Exchange.asmx', S.cssExchangeEws),
    keyVaultDnsSuffix: cell('vault.usgovcloudapi.net', S.keyVaultDns),
    storageDnsSuffix: cell('core.usgovcloudapi.net', S.storageDns),
    exchangeEnvironmentName: cell('O365USGovDoD', S.exoEnvironment),
    mgGraphEnvironment: cell('USGovDoD', S.mgEnvironment),
    // Azure CLI has no DoD cloud of its own: DoD subscriptions are in Azure Government.
    azCliCloud: cell('AzureUSGovernment', S.azCloud),
  },
  AzureChinaCloud: {
    // MSAL's preferred network host for China is login.partner.microsoftonline.cn, an alias of this one.
    authorityHost: cell('https://login.chinacloudapi.cn', S.graphDeployments),
    v1Issuer: cell('https://sts.chinacloudapi.cn/{tenantid}/', S.v1China, true),
    // Not the authority host: 21Vianet issues v2 tokens as login.partner.microsoftonline.cn.
    v2Issuer: cell('https://login.partner.microsoftonline.cn/{tenantid}/v2.0', S.msalMetadata),
    graphEndpoint: cell('https://microsoftgraph.chinacloudapi.cn', S.graphDeployments),
    exchangeResource: cell('https://partner.outlook.cn', S.cssExchange),
    imapHost: cell('partner.outlook.cn', S.mailHostGuess, true),
    popHost: cell('partner.outlook.cn', S.mailHostGuess, true),
    smtpHost: cell('smtp.partner.outlook.cn', S.smtpHostGuess, true),
    ewsUrl: cell('https://partner.outlook.cn/EWS/Exchange.asmx', S.cssExchangeEws),
    keyVaultDnsSuffix: cell('vault.azure.cn', S.keyVaultDns),
    storageDnsSuffix: cell('core.chinacloudapi.cn', S.storageDns),
    exchangeEnvironmentName: cell('O365China', S.exoEnvironment),
    mgGraphEnvironment: cell('China', S.mgEnvironment),
    azCliCloud: cell('AzureChinaCloud', S.azCloud),
  },
};

/**
 * Every host name under which each cloud's Entra ID answers (MSAL's instance discovery aliases,
 * npm:@azure/msal-common@16.17.0:dist/authority/AuthorityMetadata.mjs): how an explicit `ENTRA_AUTHORITY_HOST` is
 * told to be in one cloud. GCC High and DoD share theirs.
 */
const ENTRA_HOSTS: Readonly<Record<CloudName, readonly string[]>> = {
  AzureCloud: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'],
  AzureUSGovernment: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  AzureUSGovernmentDoD: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  AzureChinaCloud: ['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'],
};

/**
 * Other App ID URIs Entra accepts for Exchange Online in a cloud, besides `exchangeResource` and the app id
 * (`00000002-0000-0ff1-ce00-000000000000`, the same in every cloud, FACTS.md §15). The public cloud's
 * `https://outlook.office.com` is one of Exchange Online's identifier URIs (FACTS.md §2); for the national
 * clouds none was found, so none is accepted.
 */
const EXCHANGE_ALIASES: Readonly<Record<CloudName, readonly string[]>> = {
  AzureCloud: ['https://outlook.office.com'],
  AzureUSGovernment: [],
  AzureUSGovernmentDoD: [],
  AzureChinaCloud: [],
};

/** The resources a profiles file can name by key and leave their scope to the cloud. */
export const CLOUD_RESOURCES = ['exchange', 'graph'] as const;
export type CloudResource = (typeof CLOUD_RESOURCES)[number];

/** One cloud, as the broker uses it. */
export interface Cloud {
  readonly name: CloudName;
  readonly authorityHost: string;
  readonly graphEndpoint: string;
  readonly exchangeResource: string;
  readonly ewsUrl: string;
  readonly imapHost: string;
  readonly popHost: string;
  readonly smtpHost: string;
  readonly keyVaultDnsSuffix: string;
  readonly storageDnsSuffix: string;
  readonly exchangeEnvironmentName: string;
  readonly mgGraphEnvironment: string;
  readonly azCliCloud: string;
  /** `iss` of a v1 token of tenant `tid`. */
  v1Issuer(tid: string): string;
  /** `iss` of a v2 token (and ID token) of tenant `tid`. */
  v2Issuer(tid: string): string;
  /** Host names of this cloud's Entra ID, lower case. */
  readonly entraHosts: readonly string[];
  /** `{resource}/.default` and the other accepted spellings (App ID URIs) of a resource the cloud names. */
  resourceScopes(resource: CloudResource): { scope: string; aliases: readonly string[] };
}

/** The issuers of a cloud's tokens: what an adapter that checks `iss` needs of it. */
export type Issuers = Pick<Cloud, 'v1Issuer' | 'v2Issuer'>;

const clouds = new Map<CloudName, Cloud>();

export function isCloudName(name: string): name is CloudName {
  return (CLOUD_NAMES as readonly string[]).includes(name);
}

/** The cloud named `name`; one object per cloud. */
export function cloudNamed(name: CloudName): Cloud {
  let cloud = clouds.get(name);
  if (!cloud) {
    const c = TABLE[name];
    const v = (k: CellName) => c[k].value;
    const graph = v('graphEndpoint');
    const exchange = v('exchangeResource');
    cloud = Object.freeze({
      name,
      authorityHost: v('authorityHost'),
      graphEndpoint: graph,
      exchangeResource: exchange,
      ewsUrl: v('ewsUrl'),
      imapHost: v('imapHost'),
      popHost: v('popHost'),
      smtpHost: v('smtpHost'),
      keyVaultDnsSuffix: v('keyVaultDnsSuffix'),
      storageDnsSuffix: v('storageDnsSuffix'),
      exchangeEnvironmentName: v('exchangeEnvironmentName'),
      mgGraphEnvironment: v('mgGraphEnvironment'),
      azCliCloud: v('azCliCloud'),
      v1Issuer: (tid: string) => v('v1Issuer').replace('{tenantid}', tid),
      v2Issuer: (tid: string) => v('v2Issuer').replace('{tenantid}', tid),
      entraHosts: ENTRA_HOSTS[name],
      resourceScopes: (resource: CloudResource) =>
        resource === 'graph'
          ? { scope: `${graph}/.default`, aliases: [] }
          : { scope: `${exchange}/.default`, aliases: EXCHANGE_ALIASES[name].map((a) => `${a}/.default`) },
    });
    clouds.set(name, cloud);
  }
  return cloud;
}

/** The public cloud: the default of `BROKER_CLOUD`. */
export const PUBLIC_CLOUD: Cloud = cloudNamed('AzureCloud');

/** What a URL's host tells of its cloud, where it is one of the table's hosts. */
export interface HostCloud {
  /** The clouds whose hosts of that kind include this one (GCC High and DoD share some). */
  readonly clouds: readonly CloudName[];
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The clouds whose `kind` of endpoint `url` is, or undefined when its host is in no cloud's table (a
 * stand-in, a proxy, a private endpoint: then nothing can be told from it).
 */
export function cloudsOfEndpoint(
  kind: 'entra' | 'graph' | 'exchange' | 'ews' | 'keyVault' | 'storage',
  url: string,
): readonly CloudName[] | undefined {
  const host = hostOf(url);
  if (host === undefined) return undefined;
  const matches = CLOUD_NAMES.filter((name) => {
    const c = cloudNamed(name);
    switch (kind) {
      case 'entra':
        return c.entraHosts.includes(host);
      case 'graph':
        return hostOf(c.graphEndpoint) === host;
      case 'exchange':
        return [c.exchangeResource, ...EXCHANGE_ALIASES[name]].some((r) => hostOf(r) === host);
      case 'ews':
        return hostOf(c.ewsUrl) === host;
      case 'keyVault':
        return host.endsWith(`.${c.keyVaultDnsSuffix}`);
      case 'storage':
        return host.endsWith(`.${c.storageDnsSuffix}`);
    }
  });
  return matches.length > 0 ? matches : undefined;
}

/** docs/clouds.md's table: one row per cell, one column per cloud, each value with its source as a footnote. */
export function renderCloudTable(): string {
  const sources: string[] = [];
  const ref = (source: string): number => {
    const at = sources.indexOf(source);
    if (at >= 0) return at + 1;
    sources.push(source);
    return sources.length;
  };
  const lines = [`| | ${CLOUD_NAMES.join(' | ')} |`, `| --- |${CLOUD_NAMES.map(() => ' --- |').join('')}`];
  for (const name of CELL_NAMES) {
    const row = CLOUD_NAMES.map((cloud) => {
      const c = TABLE[cloud][name];
      return `\`${c.value}\` [${ref(c.source)}]${c.unverified ? ' (unverified)' : ''}`;
    });
    lines.push(`| ${CELL_TITLES[name]} | ${row.join(' | ')} |`);
  }
  lines.push('', ...sources.map((s, i) => `${i + 1}. ${s}`));
  return lines.join('\n');
}
