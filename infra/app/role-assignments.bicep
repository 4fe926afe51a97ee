// Exactly the data-plane roles the broker's identity needs, each on the one resource it is for. Role definition
// ids are the built-in roles' fixed GUIDs, from https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// (source: MicrosoftDocs/azure-docs:articles/role-based-access-control/built-in-roles.md).
param storageAccountName string
param keyVaultName string
@description('Principal (object) id of the Functions app\'s user-assigned identity.')
param appPrincipalId string
@description('Principal id of whoever runs the deployment; empty: none.')
param deployerPrincipalId string = ''
param deployerPrincipalType string = 'User'

// Storage Blob Data Owner. Host storage (AzureWebJobsStorage__accountName): the Functions host keeps its keys,
// timer-trigger schedule status and singleton locks (blob leases) in blobs, and Flex Consumption reads the
// deployment package from a blob container with this identity. Blob Data Owner is the role the Functions docs
// name for host storage by identity (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
// No queue or table role for the host: queues are needed only for blob triggers (and Durable Functions),
// tables only for Durable Functions; this app has HTTP and timer triggers only
// (Azure-Samples/functions-quickstart-javascript-azd:infra/main.bicep, storageEndpointConfig: "enableBlob: true //
// Required for AzureWebJobsStorage, .zip deployment, Event Hubs trigger and Timer trigger checkpointing",
// "enableQueue: false // Required for Durable Functions and MCP trigger", "enableTable: false // Required for
// Durable Functions and OpenAI triggers and bindings").
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Table Data Contributor. BROKER_STORAGE__tableServiceUri: the broker creates its tables and reads and
// writes their entities (FACTS.md §10: TableClient with a TokenCredential needs Table Data Contributor/Reader).
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Key Vault Secrets Officer. KEY_VAULT_URL: the broker reads secrets (the home app credential, a certificate too
// is read as a secret in PEM form, never through the certificates API), creates and updates secrets
// (`broker-hmac-key` on first start, src/keys/broker-keys.ts; `tenant-app-{tenantId}`, src/credentials/tenant-app.ts)
// and deletes them when a tenant is offboarded (src/adapters/keyvault/keyvault-secrets.ts: setSecret,
// beginDeleteSecret, getDeletedSecret, purgeDeletedSecret). Key Vault Secrets User only allows reading secret
// contents, so Officer ("Perform any action on the secrets of a key vault, except manage permissions") is the
// least built-in role that allows these. With purge protection on, the app's purge is never attempted
// (recovery level is not "…Purgeable").
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Key Vault Crypto User ("Perform cryptographic operations using keys"), on the grants' key only: the broker reads
// its public part and wraps and unwraps data keys with it (src/adapters/keyvault/keyvault-keys.ts); it cannot
// create, delete or export keys.
var keyVaultCryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource grantsKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' existing = {
  parent: vault
  name: 'mailbox-grants'
}

resource hostStorageBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'AzureWebJobsStorage__accountName: Functions host storage and the Flex Consumption deployment package'
  }
}

resource brokerTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'BROKER_STORAGE__tableServiceUri: the broker\'s tables'
  }
}

resource brokerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'KEY_VAULT_URL: read the home app credential; create, update and delete the broker\'s own secrets'
  }
}

resource brokerGrantsKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(grantsKey.id, appPrincipalId, keyVaultCryptoUser)
  scope: grantsKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Mailbox grants: wrap and unwrap the data keys that seal users\' refresh tokens'
  }
}

// The deployer stores the home app credential in the vault (infra/scripts/postprovision.sh). Remove this
// assignment after the first deployment if no person should be able to read the vault's secrets.
resource deployerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    description: 'Deployer: stores the home app credential (postprovision hook)'
  }
}
