// The broker's vault: the home app credential (HOME_APP_CREDENTIAL_NAME), the broker's own HMAC key
// (`broker-hmac-key`, created by the app on first use) and the tenants' "bring your own app" credentials
// (`tenant-app-{tenantId}`). Access by Azure RBAC only (no access policies); soft delete with purge protection, so
// that a deleted secret can be recovered for the whole retention period and nobody can purge it earlier:
// https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview
param location string
param tags object
@maxLength(24)
param name string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Once on, purge protection cannot be turned off again (by design).
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// The RSA key that wraps the data keys sealing mailbox grants' refresh tokens (src/grants/custody.ts
// GRANTS_KEY_NAME, docs/delegated-custody.md): only wrap and unwrap, its private part never leaves Key Vault.
// https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys
resource grantsKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'mailbox-grants'
  properties: {
    kty: 'RSA'
    keySize: 2048
    keyOps: ['wrapKey', 'unwrapKey']
  }
}

output name string = vault.name
output grantsKeyName string = grantsKey.name
output id string = vault.id
output uri string = vault.properties.vaultUri
