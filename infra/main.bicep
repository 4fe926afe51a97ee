// Consent Broker in one resource group: a Functions app (Flex Consumption, Node 22, v4 model) with a user-assigned
// managed identity; one Storage account for the Functions host, its deployment package and the broker's tables,
// reached by identity only (shared keys off); a Key Vault with RBAC authorization, soft delete and purge
// protection; Application Insights on a Log Analytics workspace; the multitenant home app registration (Microsoft
// Graph Bicep extension); and the role assignments the app needs, nothing more. See README.md next to this file.
//
// Deploy with `azd up` (azure.yaml at the repo root) or by hand with
// `az deployment group create -g <rg> -f infra/main.bicep -p environmentName=<name>` and then
// infra/scripts/postprovision.sh, which gives the home app its identifier URI and its credential in Key Vault.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd: AZURE_ENV_NAME); part of every resource name and tag.')
param environmentName string

@description('Region of every resource. Flex Consumption is offered in a subset of regions: https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#view-currently-supported-regions')
param location string = resourceGroup().location

@description('BROKER_PUBLIC_URL: the public base URL (redirect URIs, token endpoint audience). Empty: https://<function app>.azurewebsites.net. Set it to your custom domain once it is bound to the app.')
param brokerPublicUrl string = ''

@description('BROKER_VENDOR_NAME: the vendor name customers see on the consent pages.')
@maxLength(100)
param vendorName string = 'Your telephony vendor'

@description('BROKER_ENROLLMENT: PBXs enrolling themselves: off, onboarded (only tenants already connected) or open.')
@allowed(['off', 'onboarded', 'open'])
param enrollment string = 'onboarded'

@description('VENDOR_TENANT_ID: the Entra tenant whose staff may call the support API. Default: the tenant of this deployment.')
param vendorTenantId string = tenant().tenantId

@description('HOME_APP_CREDENTIAL_NAME: name of the Key Vault secret holding the home app credential (a client secret, or a certificate as PEM with its private key). infra/scripts/postprovision.sh creates it.')
param homeAppCredentialName string = 'home-app-credential'

@description('BROKER_CLOUD (azd: BROKER_CLOUD): the Microsoft cloud the broker serves (docs/clouds.md). Empty: the cloud this deployment runs in (environment().name); DoD must be named, since Azure Resource Manager calls its cloud AzureUSGovernment.')
@allowed([
  ''
  'AzureCloud'
  'AzureUSGovernment'
  'AzureUSGovernmentDoD'
  'AzureChinaCloud'
])
param brokerCloud string = ''

var cloud = empty(brokerCloud) ? environment().name : brokerCloud

@description('Create the home app registration with the Microsoft Graph Bicep extension (the deploying identity needs Application.ReadWrite.All, e.g. the Application Administrator role). False: register it yourself and give its client id in homeAppClientId.')
param createHomeApp bool = true

@description('HOME_APP_CLIENT_ID when createHomeApp is false: the application (client) id of an existing home app.')
param homeAppClientId string = ''

@description('Display name of the home app: customers see it on Microsoft\'s consent page and in their Enterprise applications.')
param homeAppDisplayName string = 'Consent Broker'

@description('ENTRA_AUTHORITY_HOST. Empty: the cloud\'s (docs/clouds.md), e.g. https://login.microsoftonline.us.')
param entraAuthorityHost string = ''

@description('GRAPH_ENDPOINT. Empty: the cloud\'s, e.g. https://graph.microsoft.us.')
param graphEndpoint string = ''

@description('EXCHANGE_EWS_URL: Exchange Web Services for the support check\'s live EWS probe. Empty: the cloud\'s, e.g. https://outlook.office365.us/EWS/Exchange.asmx.')
param exchangeEwsUrl string = ''
@description('EXCHANGE_IMAP_HOST (host:port): Exchange Online IMAP for the shared-mailbox login of a mailbox grant. Empty: the EWS host, port 993.')
param exchangeImapHost string = ''
@description('EXCHANGE_POP_HOST (host:port): Exchange Online POP3 for the protocol checks. Empty: the EWS host, port 995.')
param exchangePopHost string = ''
@description('EXCHANGE_SMTP_HOST (host:port): Exchange Online SMTP submission for the protocol checks. Empty: e.g. smtp.office365.com:587.')
param exchangeSmtpHost string = ''

@description('BROKER_PROFILES_FILE: path of the vendor\'s profiles file relative to the repository root; the package carries it at the same path (infra/scripts/package.mjs). Empty: the profiles that ship with the broker.')
param profilesFile string = ''

@description('BUNDLE_APP_IDS: the client ids of the profiles file\'s other bundles\' apps, as <NAME>=<client id>,… (no quotes: azd puts it into main.parameters.json as it is), written to the azd environment by infra/scripts/postprovision.sh. Empty: one home app.')
param bundleAppIds string = ''

@description('BROKER_STATE_TTL_S: lifetime of a consent state, in seconds.')
@minValue(60)
@maxValue(86400)
param stateTtlSeconds int = 900

@description('Name of the Key Vault (azd: BROKER_KEY_VAULT_NAME). Empty: kv-broker-<hash of the environment and the app identity>, new after every azd down (infra/README.md, "Redeploy after azd down"). Set it to keep a vault that already exists under another name, e.g. one deployed with the earlier naming: a new vault would mean a new broker key, and every appliance secret would stop working.')
@maxLength(24)
param keyVaultName string = ''

@description('Object id of the person or pipeline running the deployment (azd: AZURE_PRINCIPAL_ID). It gets Key Vault Secrets Officer on the vault so that the postprovision hook can store the home app credential. Empty: no such assignment.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Flex Consumption: most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance (MB).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-broker-${resourceToken}'
// Without a custom domain the app answers at its default host name. Computed rather than read from the site,
// because the home app's redirect URIs need it and the site's settings need the home app's client id.
var publicUrl = empty(brokerPublicUrl) ? 'https://${functionAppName}.azurewebsites.net' : brokerPublicUrl
// Flex Consumption runs the package from this blob container (functionAppConfig.deployment.storage).
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-broker-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-broker-${resourceToken}'
    applicationInsightsName: 'appi-broker-${resourceToken}'
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: 'stbroker${resourceToken}'
    deploymentContainerName: deploymentContainerName
  }
}

// The vault's name is unique per incarnation of the environment, not only per environment: after `azd down` the
// vault stays soft-deleted with purge protection for its 90 days, nobody can purge it, and its name stays taken
// ("You cannot reuse the name of a key vault that has been soft-deleted until the retention period has passed":
// https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview). The suffix therefore hashes the
// app identity's principal id as well: stable while the resource group lives (every `azd provision` updates the
// same vault), new once `azd down` has deleted the identity with the group, so the next `azd up` creates a new
// vault instead of failing on the deleted one. `createMode: 'recover'` cannot do this in Bicep: it fails when no
// deleted vault exists and 'default' fails when one does, and a template cannot look deleted vaults up
// (infra/README.md, "Redeploy after azd down"). A module parameter may be a runtime value (the principal id); the
// name is then fixed when the module's deployment starts.
// `keyVaultName` pins an existing vault instead (README: an environment deployed before this naming).
var vaultName = empty(keyVaultName) ? 'kv-broker-${take(uniqueString(resourceToken, identity.properties.principalId), 12)}' : keyVaultName

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    name: vaultName
  }
}

module roles 'app/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: vault.outputs.name
    appPrincipalId: identity.properties.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

// Microsoft Graph Bicep "deployments are supported only for the public cloud and not for sovereign clouds like
// Azure Government and Azure China 21Vianet" (https://learn.microsoft.com/graph/templates/limitations): in a
// national cloud the home app is registered outside Bicep and its client id given in homeAppClientId
// (docs/operations.md, "National clouds").
var bicepHomeApp = createHomeApp && cloud == 'AzureCloud'
var homeAppUniqueName = 'consent-broker-${resourceToken}'

module homeApp 'app/home-app.bicep' = if (bicepHomeApp) {
  name: 'home-app'
  params: {
    uniqueName: homeAppUniqueName
    displayName: homeAppDisplayName
    publicUrl: publicUrl
  }
}

var homeAppId = bicepHomeApp ? homeApp.outputs.appId : homeAppClientId

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  // The identity must hold its storage roles before the host starts, or the first start fails to reach storage.
  dependsOn: [roles]
  params: {
    location: location
    tags: tags
    name: functionAppName
    planName: 'plan-broker-${resourceToken}'
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    tableServiceUri: storage.outputs.tableEndpoint
    keyVaultUrl: vault.outputs.uri
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    publicUrl: publicUrl
    homeAppClientId: homeAppId
    homeAppCredentialName: homeAppCredentialName
    cloud: cloud
    entraAuthorityHost: entraAuthorityHost
    graphEndpoint: graphEndpoint
    exchangeEwsUrl: exchangeEwsUrl
    exchangeImapHost: exchangeImapHost
    exchangePopHost: exchangePopHost
    exchangeSmtpHost: exchangeSmtpHost
    vendorTenantId: vendorTenantId
    profilesFile: profilesFile
    bundleAppIds: bundleAppIds
    stateTtlSeconds: stateTtlSeconds
    vendorName: vendorName
    enrollment: enrollment
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

// azd stores these outputs in the environment (.azure/<env>/.env) and hands them to the hooks.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output BROKER_PUBLIC_URL string = publicUrl
output HOME_APP_CLIENT_ID string = homeAppId
output HOME_APP_OBJECT_ID string = bicepHomeApp ? homeApp.outputs.objectId : ''
output BROKER_CLOUD string = cloud
// For infra/scripts/postprovision.sh, which registers the home app itself where Bicep cannot (national clouds).
output HOME_APP_UNIQUE_NAME string = homeAppUniqueName
output HOME_APP_DISPLAY_NAME string = homeAppDisplayName
output HOME_APP_CREDENTIAL_NAME string = homeAppCredentialName
output KEY_VAULT_NAME string = vault.outputs.name
output KEY_VAULT_URL string = vault.outputs.uri
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output VENDOR_TENANT_ID string = vendorTenantId
