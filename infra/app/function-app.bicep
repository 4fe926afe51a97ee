// The Functions app: Flex Consumption (Linux), Node 22, Functions v4, running the package azd uploads to the
// deployment blob container, with the user-assigned identity for host storage, the deployment package, Table
// Storage and Key Vault. Shape of a Flex Consumption app in Bicep:
// https://learn.microsoft.com/azure/azure-functions/functions-infrastructure-as-code?pivots=flex-consumption-plan
// and Azure-Samples/functions-quickstart-javascript-azd:infra/app/api.bicep.
param location string
param tags object
param name string
param planName string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param tableServiceUri string
param keyVaultUrl string
param applicationInsightsConnectionString string
param publicUrl string
param homeAppClientId string
param homeAppCredentialName string
@description('BROKER_CLOUD (docs/clouds.md).')
param cloud string
param entraAuthorityHost string
param graphEndpoint string
param exchangeEwsUrl string
@description('EXCHANGE_IMAP_HOST (host:port): Exchange Online IMAP for the shared-mailbox login of a mailbox grant. Empty: EWS\'s host, port 993.')
param exchangeImapHost string
@description('EXCHANGE_POP_HOST (host:port): Exchange Online POP3 for the protocol checks. Empty: EWS\'s host, port 995.')
param exchangePopHost string
@description('EXCHANGE_SMTP_HOST (host:port): Exchange Online SMTP submission for the protocol checks. Empty: EWS\'s smtp host, port 587.')
param exchangeSmtpHost string
param vendorTenantId string
param profilesFile string
param stateTtlSeconds int
param vendorName string
@description('BROKER_ENROLLMENT: PBXs enrolling themselves: off, onboarded (only tenants already connected) or open.')
@allowed(['off', 'onboarded', 'open'])
param enrollment string = 'onboarded'
@description('BUNDLE_APP_IDS: the client ids of the profiles file\'s other bundles\' apps, as <NAME>=<client id>,…; empty: one home app.')
param bundleAppIds string = ''
param maximumInstanceCount int
param instanceMemoryMB int

// Every setting of SPEC.md "Settings" that has a meaning in Azure (checked by test/infra/app-settings.test.ts).
// Not here, on purpose:
// - PORT: the port of the local stand-in host (local/host.ts); in Azure the Functions host owns the socket.
// - BROKER_WEBHOOK_PRIVATE_TARGETS: lets webhooks reach private and loopback addresses (the sandbox's receivers);
//   in Azure it stays off, so no endpoint can make the broker reach into its own network.
// - NODE_EXTRA_CA_CERTS: trusts the sandbox CA of the local simulators; in Azure every endpoint carries a
//   publicly trusted certificate. Setting it would make Node trust whatever bundle the path names.
// - HOME_APP_CLIENT_SECRET: a secret must not sit in plain app settings. The broker reads the credential from
//   Key Vault (HOME_APP_CREDENTIAL_NAME). An operator who must inject it as a setting instead sets
//   HOME_APP_CLIENT_SECRET to a Key Vault reference, @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>)
//   with keyVaultReferenceIdentity set to this identity, and removes HOME_APP_CREDENTIAL_NAME (set only one):
//   https://learn.microsoft.com/azure/app-service/app-service-key-vault-references
// - BROKER_STORAGE: a connection string with an account key; storage is reached by identity
//   (BROKER_STORAGE__tableServiceUri) and shared keys are disabled on the account.
// - AZURE_TENANT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST: a client secret for the broker's own
//   identity, only where no managed identity exists.
var baseAppSettings = [
  // Host storage by identity: https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'BROKER_PUBLIC_URL', value: publicUrl }
  { name: 'HOME_APP_CLIENT_ID', value: homeAppClientId }
  { name: 'HOME_APP_CREDENTIAL_NAME', value: homeAppCredentialName }
  { name: 'BROKER_CLOUD', value: cloud }
  // Empty = the cloud's host (src/config.ts treats an empty setting as absent).
  { name: 'ENTRA_AUTHORITY_HOST', value: entraAuthorityHost }
  { name: 'GRAPH_ENDPOINT', value: graphEndpoint }
  { name: 'EXCHANGE_EWS_URL', value: exchangeEwsUrl }
  { name: 'EXCHANGE_IMAP_HOST', value: exchangeImapHost }
  { name: 'EXCHANGE_POP_HOST', value: exchangePopHost }
  { name: 'EXCHANGE_SMTP_HOST', value: exchangeSmtpHost }
  { name: 'KEY_VAULT_URL', value: keyVaultUrl }
  { name: 'BROKER_STORAGE__tableServiceUri', value: tableServiceUri }
  { name: 'VENDOR_TENANT_ID', value: vendorTenantId }
  // The identifier URI infra/scripts/postprovision.sh gives the home app (SPEC.md: api://${HOME_APP_CLIENT_ID}).
  { name: 'SUPPORT_API_AUDIENCE', value: 'api://${homeAppClientId}' }
  // Empty = the profiles that ship with the broker (src/config.ts treats an empty setting as absent).
  { name: 'BROKER_PROFILES_FILE', value: profilesFile }
  { name: 'BROKER_STATE_TTL_S', value: string(stateTtlSeconds) }
  { name: 'BROKER_VENDOR_NAME', value: vendorName }
  { name: 'BROKER_ENROLLMENT', value: enrollment }
  // src/config.ts: AZURE_CLIENT_ID selects the user-assigned managed identity (unset = system-assigned).
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
]

// The apps of a profiles file's other bundles (README "Least privilege: one app per bundle"), registered by
// infra/scripts/postprovision.sh, which hands their client ids back through the azd environment (BUNDLE_APP_IDS)
// so that a provisioning keeps their settings: BUNDLE_<NAME>_CLIENT_ID and BUNDLE_<NAME>_CREDENTIAL_NAME, the Key
// Vault secret HOME_APP_CREDENTIAL_NAME-<bundle> (src/config-apps.ts; <NAME> is the bundle name upper-cased, dashes
// as underscores).
var bundleAppSettings = flatten(map(filter(split(bundleAppIds, ','), e => !empty(e)), e => [
  { name: 'BUNDLE_${split(e, '=')[0]}_CLIENT_ID', value: split(e, '=')[1] }
  {
    name: 'BUNDLE_${split(e, '=')[0]}_CREDENTIAL_NAME'
    value: '${homeAppCredentialName}-${toLower(replace(split(e, '=')[0], '_', '-'))}'
  }
]))

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the resource to deploy the `broker` service of azure.yaml to by this tag.
  tags: union(tags, { 'azd-service-name': 'broker' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption takes the language and version here, not from FUNCTIONS_WORKER_RUNTIME /
      // WEBSITE_NODE_DEFAULT_VERSION app settings (which it does not accept).
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // The settings: baseAppSettings and bundleAppSettings, above.
      appSettings: concat(baseAppSettings, bundleAppSettings)
    }
  }
}

// Publishing with basic authentication (FTP and the SCM site's user/password) off: azd and the Azure CLI deploy
// with Microsoft Entra tokens. https://learn.microsoft.com/azure/app-service/configure-basic-auth-disable
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
