# PowerShell twin of postprovision.sh (azd runs it on Windows): the home app's identifier URI api://{appId} and
# its client secret in Key Vault as HOME_APP_CREDENTIAL_NAME (plain secret text, with the secret's end date as the
# Key Vault secret's expiry); with a profiles file of several bundles, each other bundle's app, its credential and
# its app settings. Idempotent; never prints the secret. See postprovision.sh for the details.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# 0. National clouds: register the home app itself by its unique name (Graph Bicep runs in the public cloud only;
#    see postprovision.sh, step 0), its service principal, and the Functions app's HOME_APP_CLIENT_ID.
$cloud = if ($env:BROKER_CLOUD) { $env:BROKER_CLOUD } else { 'AzureCloud' }
if ($cloud -ne 'AzureCloud' -and -not $env:HOME_APP_CLIENT_ID) {
  foreach ($name in 'HOME_APP_UNIQUE_NAME', 'AZURE_FUNCTION_APP_NAME', 'AZURE_RESOURCE_GROUP') {
    if (-not [Environment]::GetEnvironmentVariable($name)) { throw "$name is not set (main.bicep output)" }
  }
  $azCloud = switch ($cloud) {
    'AzureUSGovernment' { 'AzureUSGovernment' }
    'AzureUSGovernmentDoD' { 'AzureUSGovernment' }
    'AzureChinaCloud' { 'AzureChinaCloud' }
    default { throw "BROKER_CLOUD must be one of AzureCloud, AzureUSGovernment, AzureUSGovernmentDoD, AzureChinaCloud, got `"$cloud`"" }
  }
  $currentCloud = az cloud show --query name -o tsv
  if ($currentCloud -ne $azCloud) {
    Write-Host "Azure CLI: switching from $currentCloud to $azCloud (az cloud set); sign in there with az login if asked"
    az cloud set --name $azCloud
    if ($LASTEXITCODE -ne 0) { throw 'az cloud set failed' }
  }
  $repo = Join-Path $PSScriptRoot '../..'
  if (-not (Test-Path (Join-Path $repo 'dist/src/profiles/registration.js'))) {
    Push-Location $repo; try { npm run build --silent } finally { Pop-Location }
  }
  $bodyScript = Join-Path $PSScriptRoot 'home-app-body.mjs'
  $graph = node $bodyScript graph
  if ($LASTEXITCODE -ne 0) { throw 'home-app-body.mjs graph failed' }
  $bodyFile = New-TemporaryFile
  try {
    node $bodyScript body | Set-Content -Path $bodyFile -NoNewline -Encoding utf8
    if ($LASTEXITCODE -ne 0) { throw 'home-app-body.mjs body failed' }
    $url = "$graph/v1.0/applications(uniqueName='$($env:HOME_APP_UNIQUE_NAME)')"
    Write-Host "home app $($env:HOME_APP_UNIQUE_NAME): registering in $cloud ($graph)"
    az rest --method patch --resource $graph --url $url --headers 'Prefer=create-if-missing' 'Content-Type=application/json' --body "@$bodyFile" --output none
    if ($LASTEXITCODE -ne 0) { throw 'the home app upsert failed' }
  } finally {
    Remove-Item $bodyFile -ErrorAction SilentlyContinue
  }
  $env:HOME_APP_CLIENT_ID = az rest --method get --resource $graph --url "$url`?`$select=appId" --query appId -o tsv
  if ($LASTEXITCODE -ne 0) { throw 'reading the home app failed' }
  az ad sp show --id $env:HOME_APP_CLIENT_ID --query id -o tsv 2>$null | Out-Null
  if ($LASTEXITCODE -ne 0) {
    Write-Host "home app $($env:HOME_APP_CLIENT_ID): creating its service principal in the vendor tenant"
    az ad sp create --id $env:HOME_APP_CLIENT_ID --output none
    if ($LASTEXITCODE -ne 0) { throw 'az ad sp create failed' }
  }
  $configured = az functionapp config appsettings list -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME `
    --query "[?name=='HOME_APP_CLIENT_ID'].value | [0]" -o tsv
  if ($configured -ne $env:HOME_APP_CLIENT_ID) {
    Write-Host "Functions app $($env:AZURE_FUNCTION_APP_NAME): HOME_APP_CLIENT_ID=$($env:HOME_APP_CLIENT_ID)"
    az functionapp config appsettings set -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME `
      --settings "HOME_APP_CLIENT_ID=$($env:HOME_APP_CLIENT_ID)" "SUPPORT_API_AUDIENCE=api://$($env:HOME_APP_CLIENT_ID)" --output none
    if ($LASTEXITCODE -ne 0) { throw 'az functionapp config appsettings set failed' }
  }
}

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

# 2. credential in Key Vault (attributes only; retried while the role assignment propagates), as a function: the
#    home app's, and each other bundle's app's (step 3), by the same rules.
function Get-SecretExpiry([string]$name) {
  for ($attempt = 1; $attempt -le 10; $attempt++) {
    # A secret backing a Key Vault certificate has managed = true: renewed by the certificate's policy (see .sh).
    $out = az keyvault secret show --vault-name $vault --name $name `
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

function Set-AppSecret([string]$appId, [string]$name, [string]$what) {
  $expiry = Get-SecretExpiry $name
  if ($expiry -eq 'certificate') {
    Write-Host "Key Vault ${vault}: $name is a Key Vault certificate, renewed by its own policy; no client secret added"
    if ($env:BROKER_ROTATE_HOME_APP_CREDENTIAL -eq 'true') {
      Write-Warning 'BROKER_ROTATE_HOME_APP_CREDENTIAL rotates a client secret only: renew the certificate in Key Vault and add it to the app registration (docs/operations.md)'
    }
    return
  }
  $needsSecret = ($env:BROKER_ROTATE_HOME_APP_CREDENTIAL -eq 'true') -or ($expiry -eq 'missing')
  if (-not $needsSecret -and $expiry -ne 'never') {
    $ends = [DateTimeOffset]::Parse($expiry)
    $needsSecret = ($ends - [DateTimeOffset]::UtcNow).TotalDays -lt $rotateWithinDays
  }
  if (-not $needsSecret) {
    Write-Host "Key Vault ${vault}: $name present (expires: $expiry); no new secret"
    return
  }

  Write-Host "$what ${appId}: adding a client secret valid for $years year(s)"
  $secretFile = [System.IO.Path]::GetTempFileName() # created in the user's own temp folder
  try {
    $secret = az ad app credential reset --id $appId --append --years $years `
      --display-name "consent-broker $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd'))" `
      --query password -o tsv --only-show-errors
    if ($LASTEXITCODE -ne 0) { throw 'az ad app credential reset failed' }
    [System.IO.File]::WriteAllText($secretFile, $secret, (New-Object System.Text.UTF8Encoding $false))
    Remove-Variable secret
    $endsOn = az ad app credential list --id $appId --query 'max_by([], &endDateTime).endDateTime' -o tsv
    for ($attempt = 1; $attempt -le 10; $attempt++) {
      az keyvault secret set --vault-name $vault --name $name --file $secretFile --encoding utf-8 `
        --content-type 'text/plain' --expires $endsOn --output none --only-show-errors
      if ($LASTEXITCODE -eq 0) {
        Write-Host "Key Vault ${vault}: stored the $what secret as $name (expires $endsOn)"
        return
      }
      Write-Warning "storing the secret failed (role assignment still propagating?), retry $attempt/10 in 30 s"
      Start-Sleep -Seconds 30
    }
    throw "could not store the secret in Key Vault; delete the unused app secret with az ad app credential delete --id $appId --key-id <keyId>"
  } finally {
    Remove-Item -Force -ErrorAction SilentlyContinue $secretFile
  }
}

Set-AppSecret $app $secretName 'home app'

# 3. The apps of the profiles file's other bundles (see postprovision.sh, step 3): each registered by its unique
#    name HOME_APP_UNIQUE_NAME-<bundle>, its secret in Key Vault as HOME_APP_CREDENTIAL_NAME-<bundle>, the Functions
#    app's BUNDLE_<NAME>_* settings, BUNDLE_APP_IDS in the azd environment; the home app narrowed to its bundle.
$profilesFile = $env:BROKER_PROFILES_FILE
if (-not $profilesFile -or -not (Select-String -Path $profilesFile -Pattern '"bundles"' -Quiet)) { exit 0 }
foreach ($name in 'HOME_APP_UNIQUE_NAME', 'AZURE_FUNCTION_APP_NAME', 'AZURE_RESOURCE_GROUP') {
  if (-not [Environment]::GetEnvironmentVariable($name)) { throw "$name is not set (main.bicep output)" }
}
$repo = Join-Path $PSScriptRoot '../..'
if (-not (Test-Path (Join-Path $repo 'dist/src/profiles/registration.js'))) {
  Push-Location $repo; try { npm run build --silent } finally { Pop-Location }
}
$env:BROKER_CLOUD = $cloud
$bodyScript = Join-Path $PSScriptRoot 'home-app-body.mjs'
$graph = node $bodyScript graph
if ($LASTEXITCODE -ne 0) { throw 'home-app-body.mjs graph failed' }
$bundles = @(node $bodyScript bundles | ForEach-Object { , ($_ -split "`t") })
if ($LASTEXITCODE -ne 0) { throw 'home-app-body.mjs bundles failed' }
$accessFile = New-TemporaryFile
try {
  node $bodyScript access | Set-Content -Path $accessFile -NoNewline -Encoding utf8
  if ($LASTEXITCODE -ne 0) { throw 'home-app-body.mjs access failed' }
  Write-Host "home app ${app}: the permissions of bundle $($bundles[0][0]) only"
  az ad app update --id $app --required-resource-accesses "@$accessFile" --only-show-errors
  if ($LASTEXITCODE -ne 0) { throw 'az ad app update failed' }
} finally {
  Remove-Item $accessFile -ErrorAction SilentlyContinue
}

$wanted = @()
$ids = @()
for ($i = 1; $i -lt $bundles.Count; $i++) {
  $bundleName, $setting = $bundles[$i]
  $unique = "$($env:HOME_APP_UNIQUE_NAME)-$bundleName"
  $url = "$graph/v1.0/applications(uniqueName='$unique')"
  $bodyFile = New-TemporaryFile
  try {
    node $bodyScript body $bundleName | Set-Content -Path $bodyFile -NoNewline -Encoding utf8
    if ($LASTEXITCODE -ne 0) { throw "home-app-body.mjs body $bundleName failed" }
    Write-Host "bundle app ${unique}: registering ($graph)"
    az rest --method patch --resource $graph --url $url --headers 'Prefer=create-if-missing' 'Content-Type=application/json' --body "@$bodyFile" --output none
    if ($LASTEXITCODE -ne 0) { throw "the upsert of $unique failed" }
  } finally {
    Remove-Item $bodyFile -ErrorAction SilentlyContinue
  }
  $bundleApp = az rest --method get --resource $graph --url "$url`?`$select=appId" --query appId -o tsv
  if ($LASTEXITCODE -ne 0) { throw "reading $unique failed" }
  Set-AppSecret $bundleApp "$secretName-$bundleName" "bundle app $bundleName"
  $wanted += "BUNDLE_${setting}_CLIENT_ID=$bundleApp", "BUNDLE_${setting}_CREDENTIAL_NAME=$secretName-$bundleName"
  $ids += "$setting=$bundleApp"
}

$missing = @()
foreach ($pair in $wanted) {
  $key, $value = $pair.Split('=', 2)
  $current = az functionapp config appsettings list -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME `
    --query "[?name=='$key'].value | [0]" -o tsv
  if ($current -ne $value) { $missing += $pair }
}
if ($missing.Count -gt 0) {
  Write-Host "Functions app $($env:AZURE_FUNCTION_APP_NAME): $($missing -join ' ')"
  az functionapp config appsettings set -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME --settings @missing --output none
  if ($LASTEXITCODE -ne 0) { throw 'az functionapp config appsettings set failed' }
}
$joined = $ids -join ','
if (Get-Command azd -ErrorAction SilentlyContinue) {
  azd env set BUNDLE_APP_IDS $joined
} else {
  Write-Warning "azd not found: give main.bicep bundleAppIds='$joined' at the next deployment, or it drops the BUNDLE_* settings"
}
