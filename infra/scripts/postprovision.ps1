# PowerShell twin of postprovision.sh (azd runs it on Windows): the home app's identifier URI api://{appId} and
# its client secret in Key Vault as HOME_APP_CREDENTIAL_NAME (plain secret text, with the secret's end date as the
# Key Vault secret's expiry). Idempotent; never prints the secret. See postprovision.sh for the details.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

foreach ($name in 'HOME_APP_CLIENT_ID', 'KEY_VAULT_NAME', 'HOME_APP_CREDENTIAL_NAME') {
  if (-not [Environment]::GetEnvironmentVariable($name)) { throw "$name is not set (main.bicep output)" }
}
$app = $env:HOME_APP_CLIENT_ID
$vault = $env:KEY_VAULT_NAME
$secretName = $env:HOME_APP_CREDENTIAL_NAME
$years = if ($env:HOME_APP_SECRET_YEARS) { [int]$env:HOME_APP_SECRET_YEARS } else { 1 }
$rotateWithinDays = if ($env:ROTATE_WITHIN_DAYS) { [int]$env:ROTATE_WITHIN_DAYS } else { 30 }
$uri = "api://$app"

# 1. identifier URI
$hasUri = az ad app show --id $app --query "contains(identifierUris, '$uri')" -o tsv
if ($LASTEXITCODE -ne 0) { throw "az ad app show failed for $app" }
if ($hasUri -ne 'true') {
  Write-Host "home app ${app}: setting identifier URI $uri"
  az ad app update --id $app --identifier-uris $uri --only-show-errors
  if ($LASTEXITCODE -ne 0) { throw 'az ad app update failed' }
} else {
  Write-Host "home app ${app}: identifier URI $uri already set"
}

# 2. credential in Key Vault (attributes only; retried while the role assignment propagates)
function Get-SecretExpiry {
  for ($attempt = 1; $attempt -le 10; $attempt++) {
    # A secret backing a Key Vault certificate has managed = true: renewed by the certificate's policy (see .sh).
    $out = az keyvault secret show --vault-name $vault --name $secretName `
      --query "join('|', [to_string(managed), to_string(attributes.expires)])" -o tsv 2>&1
    if ($LASTEXITCODE -eq 0) {
      $managed, $expires = "$out".Trim().Split('|', 2)
      if ($managed -eq 'true') { return 'certificate' }
      if (-not $expires -or $expires -eq 'null' -or $expires -eq 'None') { return 'never' }
      return $expires
    }
    $text = "$out"
    if ($text -match 'SecretNotFound|was not found') { return 'missing' }
    if ($text -match 'Forbidden|not authorized') {
      Write-Warning "Key Vault refused access (role assignment still propagating?), retry $attempt/10 in 30 s"
      Start-Sleep -Seconds 30
      continue
    }
    throw $text
  }
  throw "Key Vault still refuses access: does the signed-in identity hold Key Vault Secrets Officer on ${vault}?"
}

$expiry = Get-SecretExpiry
if ($expiry -eq 'certificate') {
  Write-Host "Key Vault ${vault}: $secretName is a Key Vault certificate, renewed by its own policy; no client secret added"
  if ($env:BROKER_ROTATE_HOME_APP_CREDENTIAL -eq 'true') {
    Write-Warning 'BROKER_ROTATE_HOME_APP_CREDENTIAL rotates a client secret only: renew the certificate in Key Vault and add it to the app registration (docs/operations.md)'
  }
  exit 0
}
$needsSecret = ($env:BROKER_ROTATE_HOME_APP_CREDENTIAL -eq 'true') -or ($expiry -eq 'missing')
if (-not $needsSecret -and $expiry -ne 'never') {
  $ends = [DateTimeOffset]::Parse($expiry)
  $needsSecret = ($ends - [DateTimeOffset]::UtcNow).TotalDays -lt $rotateWithinDays
}
if (-not $needsSecret) {
  Write-Host "Key Vault ${vault}: $secretName present (expires: $expiry); no new secret"
  exit 0
}

Write-Host "home app ${app}: adding a client secret valid for $years year(s)"
$secretFile = [System.IO.Path]::GetTempFileName() # created in the user's own temp folder
try {
  $secret = az ad app credential reset --id $app --append --years $years `
    --display-name "consent-broker $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd'))" `
    --query password -o tsv --only-show-errors
  if ($LASTEXITCODE -ne 0) { throw 'az ad app credential reset failed' }
  [System.IO.File]::WriteAllText($secretFile, $secret, (New-Object System.Text.UTF8Encoding $false))
  Remove-Variable secret
  $endsOn = az ad app credential list --id $app --query 'max_by([], &endDateTime).endDateTime' -o tsv
  for ($attempt = 1; $attempt -le 10; $attempt++) {
    az keyvault secret set --vault-name $vault --name $secretName --file $secretFile --encoding utf-8 `
      --content-type 'text/plain' --expires $endsOn --output none --only-show-errors
    if ($LASTEXITCODE -eq 0) {
      Write-Host "Key Vault ${vault}: stored the home app secret as $secretName (expires $endsOn)"
      exit 0
    }
    Write-Warning "storing the secret failed (role assignment still propagating?), retry $attempt/10 in 30 s"
    Start-Sleep -Seconds 30
  }
  throw "could not store the secret in Key Vault; delete the unused app secret with az ad app credential delete --id $app --key-id <keyId>"
} finally {
  Remove-Item -Force -ErrorAction SilentlyContinue $secretFile
}
