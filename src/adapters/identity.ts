/**
 * The broker's own Azure identity, towards Key Vault (and any other Azure resource it calls with a
 * `TokenCredential`). In production it is the Functions app's managed identity; in the sandbox a client
 * secret of the broker identity app against the Entra simulator. This is the only file that imports
 * `@azure/identity`.
 * @module
 */
import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { AzureIdentityConfig } from '../config.js';

export type { TokenCredential } from '@azure/identity';

/** The broker's own identity, as src/config.ts reads it. */
export type AzureCredentialConfig = AzureIdentityConfig;

/**
 * Hosts whose instance-discovery metadata MSAL carries in its own code, so that it never asks the network
 * for them (`npm:@azure/msal-common@16.17.0:dist/authority/AuthorityMetadata.mjs`, `rawMetdataJSON`).
 */
const MSAL_KNOWN_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.sovcloud-identity.fr',
  'login.sovcloud-identity.de',
]);

export function createAzureCredential(config: AzureCredentialConfig): TokenCredential {
  switch (config.kind) {
    case 'managedIdentity':
      return config.clientId
        ? new ManagedIdentityCredential({ clientId: config.clientId })
        : new ManagedIdentityCredential();
    case 'clientSecret': {
      const host = new URL(config.authorityHost).hostname.toLowerCase();
      return new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, {
        authorityHost: config.authorityHost,
        // For any other host MSAL validates the authority by calling Microsoft's instance-discovery endpoint,
        // https://login.microsoftonline.com/common/discovery/instance (hard-coded, whatever the authority:
        // `npm:@azure/msal-common@16.17.0:dist/authority/Authority.mjs` getCloudDiscoveryMetadataFromNetwork),
        // and fails with untrusted_authority when that is unreachable. `disableInstanceDiscovery` makes
        // @azure/identity list the authority in MSAL's `knownAuthorities` instead
        // (`npm:@azure/identity@4.14.1:dist/esm/msal/utils.js` getKnownAuthorities). Needed for an
        // operator's own authority host (e.g. an ADFS-style proxy) and for a stand-in.
        disableInstanceDiscovery: !MSAL_KNOWN_AUTHORITY_HOSTS.has(host),
      });
    }
  }
}
