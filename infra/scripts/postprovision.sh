#!/usr/bin/env bash
# What Bicep cannot do for the home app (infra/app/home-app.bicep), run after every provisioning: by azd as the
# postprovision hook (azure.yaml), or by hand after `az deployment group create` (infra/README.md).
#
#  1. Identifier URI api://{appId}: needs the appId, which exists only after the application is created.
#  2. The home app credential: a client secret (Graph Bicep cannot create passwords), stored in Key Vault as the
#     secret HOME_APP_CREDENTIAL_NAME — its value is the plain secret text, which is what the broker reads
#     (src/credentials/home-app.ts: a value that is not PEM is a client secret), with the secret's expiry as the
#     Key Vault secret's `expires` so that the broker's expiry check and /api/health see it.
#
# Idempotent: the identifier URI is set only when missing; a new secret is created only when Key Vault holds
# none, or one ending within ROTATE_WITHIN_DAYS days, or when BROKER_ROTATE_HOME_APP_CREDENTIAL=true. A new secret
# is added next to the existing ones (`--append`), so the broker keeps working until it has read the new version
# (it re-reads Key Vault every 5 minutes); delete old ones afterwards with `az ad app credential delete`.
# The secret is never printed: it goes from the Azure CLI's output into a variable, then into a file only this
# user can read, which `az keyvault secret set --file` reads and which is removed on exit.
#
#  3. With a profiles file of several bundles: each other bundle's app, its credential and its app settings.
#
# Needs: Azure CLI, signed in (`az login`) as someone who owns the home app or holds Application Administrator,
# and who has Key Vault Secrets Officer on the vault (main.bicep grants it to principalId).
# Environment (azd provides them from main.bicep's outputs): HOME_APP_CLIENT_ID, KEY_VAULT_NAME,
# HOME_APP_CREDENTIAL_NAME; optional HOME_APP_SECRET_YEARS (default 1), ROTATE_WITHIN_DAYS (default 30).
set -euo pipefail

# ---- 0. national clouds: the registration itself ------------------------------------------------------------
# Microsoft Graph Bicep runs in the public cloud only (https://learn.microsoft.com/graph/templates/limitations), so
# in a national cloud main.bicep does not create the home app: this step registers it with the Azure CLI signed in
# to that cloud, by the same key the Bicep extension uses, `uniqueName`: an upsert
# (`PATCH /applications(uniqueName='…')` with `Prefer: create-if-missing`,
# https://learn.microsoft.com/graph/api/application-upsert, available in every national cloud), so that each run
# leaves one registration, updated. Then its service principal, and the Functions app's HOME_APP_CLIENT_ID and
# SUPPORT_API_AUDIENCE, each only when missing or different. It runs on every provisioning there (main.bicep's
# HOME_APP_CLIENT_ID output is empty unless homeAppClientId names an app registered by hand), since a provisioning
# sets the Functions app's settings from main.bicep again.
cloud="${BROKER_CLOUD:-AzureCloud}"
if [ "$cloud" != "AzureCloud" ] && [ -z "${HOME_APP_CLIENT_ID:-}" ]; then
  : "${HOME_APP_UNIQUE_NAME:?HOME_APP_UNIQUE_NAME is not set (main.bicep output)}"
  : "${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set (main.bicep output)}"
  : "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set (main.bicep output)}"
  # Azure CLI's cloud of that name (DoD subscriptions are in AzureUSGovernment: docs/clouds.md).
  case "$cloud" in
    AzureUSGovernment | AzureUSGovernmentDoD) az_cloud=AzureUSGovernment ;;
    AzureChinaCloud) az_cloud=AzureChinaCloud ;;
    *) echo "BROKER_CLOUD must be one of AzureCloud, AzureUSGovernment, AzureUSGovernmentDoD, AzureChinaCloud, got \"$cloud\"" >&2; exit 2 ;;
  esac
  current_cloud=$(az cloud show --query name -o tsv)
  if [ "$current_cloud" != "$az_cloud" ]; then
    echo "Azure CLI: switching from $current_cloud to $az_cloud (az cloud set); sign in there with az login if asked"
    az cloud set --name "$az_cloud"
  fi
  here=$(cd "$(dirname "$0")" && pwd)
  [ -f "$here/../../dist/src/profiles/registration.js" ] || (cd "$here/../.." && npm run build --silent)
  graph=$(node "$here/home-app-body.mjs" graph)
  body_file=$(umask 077 && mktemp)
  node "$here/home-app-body.mjs" body >"$body_file"
  echo "home app $HOME_APP_UNIQUE_NAME: registering in $cloud ($graph)"
  # --resource: az rest knows a cloud's Graph only by its own endpoint table, which has no DoD Graph.
  az rest --method patch --resource "$graph" --url "$graph/v1.0/applications(uniqueName='$HOME_APP_UNIQUE_NAME')" \
    --headers "Prefer=create-if-missing" "Content-Type=application/json" --body "@$body_file" --output none
  rm -f "$body_file"
  HOME_APP_CLIENT_ID=$(az rest --method get --resource "$graph" --url "$graph/v1.0/applications(uniqueName='$HOME_APP_UNIQUE_NAME')?\$select=appId" \
    --query appId -o tsv)
  if ! az ad sp show --id "$HOME_APP_CLIENT_ID" --query id -o tsv >/dev/null 2>&1; then
    echo "home app $HOME_APP_CLIENT_ID: creating its service principal in the vendor tenant"
    az ad sp create --id "$HOME_APP_CLIENT_ID" --output none
  fi
  configured=$(az functionapp config appsettings list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --query "[?name=='HOME_APP_CLIENT_ID'].value | [0]" -o tsv)
  if [ "$configured" != "$HOME_APP_CLIENT_ID" ]; then
    echo "Functions app $AZURE_FUNCTION_APP_NAME: HOME_APP_CLIENT_ID=$HOME_APP_CLIENT_ID"
    az functionapp config appsettings set -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
      --settings "HOME_APP_CLIENT_ID=$HOME_APP_CLIENT_ID" "SUPPORT_API_AUDIENCE=api://$HOME_APP_CLIENT_ID" --output none
  fi
  export HOME_APP_CLIENT_ID
fi

: "${HOME_APP_CLIENT_ID:?HOME_APP_CLIENT_ID is not set (main.bicep output)}"
: "${KEY_VAULT_NAME:?KEY_VAULT_NAME is not set (main.bicep output)}"
: "${HOME_APP_CREDENTIAL_NAME:?HOME_APP_CREDENTIAL_NAME is not set (main.bicep output)}"
years="${HOME_APP_SECRET_YEARS:-1}"
rotate_within_days="${ROTATE_WITHIN_DAYS:-30}"
app="$HOME_APP_CLIENT_ID"
uri="api://$app"

# ---- 1. identifier URI ---------------------------------------------------------------------------------------
has_uri=$(az ad app show --id "$app" --query "contains(identifierUris, '$uri')" -o tsv)
if [ "$has_uri" != "true" ]; then
  echo "home app $app: setting identifier URI $uri"
  az ad app update --id "$app" --identifier-uris "$uri" --only-show-errors
else
  echo "home app $app: identifier URI $uri already set"
fi

# ---- 2. credential in Key Vault ------------------------------------------------------------------------------
# Reads only the secret's attributes, never its value. A role assignment made by the deployment may take a few
# minutes to reach Key Vault: "Forbidden" is retried, "not found" means there is no credential yet. A secret
# that backs a Key Vault certificate has `managed` true ("If this is a secret backing a certificate, then
# managed will be true": SecretProperties, @azure/keyvault-secrets reference); Key Vault renews it by the
# certificate's own policy and refuses to have it set, so it is reported as "certificate" and left alone.
secret_expiry() { # <secret name>
  local attempt out managed expires
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if out=$(az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$1" \
      --query "join('|', [to_string(managed), to_string(attributes.expires)])" -o tsv 2>&1); then
      managed=${out%%|*}
      expires=${out#*|}
      if [ "$managed" = "true" ]; then printf 'certificate'; return 0; fi
      case "$expires" in "" | null | None) expires=never ;; esac
      printf '%s' "$expires"
      return 0
    fi
    case "$out" in
      *SecretNotFound* | *"was not found"*) printf 'missing'; return 0 ;;
      *Forbidden* | *ForbiddenByRbac* | *"not authorized"*)
        echo "Key Vault refused access (role assignment still propagating?), retry $attempt/10 in 30 s" >&2
        sleep 30 ;;
      *) echo "$out" >&2; return 1 ;;
    esac
  done
  echo "Key Vault still refuses access: does the signed-in identity hold Key Vault Secrets Officer on $KEY_VAULT_NAME?" >&2
  return 1
}

# The files a secret passes through, removed on exit.
secret_files=()
trap 'rm -f ${secret_files[@]+"${secret_files[@]}"}' EXIT

# Makes sure Key Vault holds a valid client secret of the app as the secret <secret name>: the home app's, and
# each other bundle's app's (step 3), by the same rules.
ensure_app_secret() { # <app id> <secret name> <what, for the messages>
  local app_id="$1" name="$2" what="$3" expiry needs_secret now_epoch expiry_day expiry_epoch secret_file secret ends attempt
  expiry=$(secret_expiry "$name")
  if [ "$expiry" = "certificate" ]; then
    echo "Key Vault $KEY_VAULT_NAME: $name is a Key Vault certificate, renewed by its own policy; no client secret added"
    if [ "${BROKER_ROTATE_HOME_APP_CREDENTIAL:-false}" = "true" ]; then
      echo "BROKER_ROTATE_HOME_APP_CREDENTIAL rotates a client secret only: renew the certificate in Key Vault and add it to the app registration (docs/operations.md)" >&2
    fi
    return 0
  fi
  needs_secret=false
  if [ "${BROKER_ROTATE_HOME_APP_CREDENTIAL:-false}" = "true" ] || [ "$expiry" = "missing" ]; then
    needs_secret=true
  elif [ "$expiry" != "never" ]; then
    # GNU date (-d) or BSD/macOS date (-j -f).
    now_epoch=$(date -u +%s)
    expiry_day=${expiry%%T*}
    if expiry_epoch=$(date -u -d "$expiry_day" +%s 2>/dev/null) ||
      expiry_epoch=$(date -u -j -f %Y-%m-%d "$expiry_day" +%s 2>/dev/null); then
      if [ $((expiry_epoch - now_epoch)) -lt $((rotate_within_days * 86400)) ]; then needs_secret=true; fi
    else
      echo "cannot read the expiry date \"$expiry\" of $name; leaving it as it is" >&2
    fi
  fi

  if [ "$needs_secret" != "true" ]; then
    echo "Key Vault $KEY_VAULT_NAME: $name present (expires: $expiry); no new secret"
    return 0
  fi

  secret_file=$(umask 077 && mktemp)
  secret_files+=("$secret_file")
  echo "$what $app_id: adding a client secret valid for $years year(s)"
  secret=$(az ad app credential reset --id "$app_id" --append --years "$years" \
    --display-name "consent-broker $(date -u +%Y-%m-%d)" --query password -o tsv --only-show-errors)
  printf '%s' "$secret" >"$secret_file"
  unset secret
  # The end of the secret just added: the latest end date among the app's passwords.
  ends=$(az ad app credential list --id "$app_id" --query "max_by([], &endDateTime).endDateTime" -o tsv)

  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if az keyvault secret set --vault-name "$KEY_VAULT_NAME" --name "$name" \
      --file "$secret_file" --encoding utf-8 --content-type "text/plain" --expires "$ends" \
      --output none --only-show-errors; then
      echo "Key Vault $KEY_VAULT_NAME: stored the $what secret as $name (expires $ends)"
      rm -f "$secret_file"
      return 0
    fi
    echo "storing the secret failed (role assignment still propagating?), retry $attempt/10 in 30 s" >&2
    sleep 30
  done
  echo "could not store the secret in Key Vault; the new app secret is unused: delete it with" >&2
  echo "  az ad app credential list --id $app_id; az ad app credential delete --id $app_id --key-id <keyId>" >&2
  return 1
}

ensure_app_secret "$app" "$HOME_APP_CREDENTIAL_NAME" "home app"

# ---- 3. the apps of the profiles file's other bundles -----------------------------------------------------------
# A profiles file with `bundles` (src/profiles/bundles.ts, README "Least privilege: one app per bundle") is served
# by one app registration per bundle: the first by the home app, each other by an app of its own. Each is
# registered here in every cloud, by the same upsert as step 0 (uniqueName HOME_APP_UNIQUE_NAME-<bundle>, body
# from the profiles: src/profiles/registration.ts `graphApplicationBody`), gets a client secret in Key Vault as
# HOME_APP_CREDENTIAL_NAME-<bundle> by the rules of step 2, and the Functions app gets its
# BUNDLE_<NAME>_CLIENT_ID and BUNDLE_<NAME>_CREDENTIAL_NAME. The home app's own permissions are narrowed to its
# bundle's (Bicep registers those of the default profiles). So that the next provisioning keeps those settings
# (Bicep sets the app settings anew each time), the client ids also go to the azd environment as BUNDLE_APP_IDS,
# which main.parameters.json hands to main.bicep (`bundleAppIds`). A profiles file without bundles skips all this.
profiles_file="${BROKER_PROFILES_FILE:-}"
if [ -z "$profiles_file" ] || ! grep -q '"bundles"' "$profiles_file"; then exit 0; fi
: "${HOME_APP_UNIQUE_NAME:?HOME_APP_UNIQUE_NAME is not set (main.bicep output)}"
: "${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set (main.bicep output)}"
: "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set (main.bicep output)}"
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/../../dist/src/profiles/registration.js" ] || (cd "$here/../.." && npm run build --silent)
export BROKER_CLOUD="$cloud"
graph=$(node "$here/home-app-body.mjs" graph)
bundles=$(node "$here/home-app-body.mjs" bundles) # one line per bundle: <name> TAB <its settings' spelling>
access_file=$(umask 077 && mktemp)
secret_files+=("$access_file")
node "$here/home-app-body.mjs" access >"$access_file"
echo "home app $app: the permissions of bundle $(printf '%s\n' "$bundles" | head -n 1 | cut -f 1) only"
az ad app update --id "$app" --required-resource-accesses "@$access_file" --only-show-errors

wanted=()
ids=""
while IFS=$'\t' read -r -u 3 name setting; do
  [ -n "$name" ] || continue
  unique="$HOME_APP_UNIQUE_NAME-$name"
  body_file=$(umask 077 && mktemp)
  secret_files+=("$body_file")
  node "$here/home-app-body.mjs" body "$name" >"$body_file"
  echo "bundle app $unique: registering ($graph)"
  az rest --method patch --resource "$graph" --url "$graph/v1.0/applications(uniqueName='$unique')" \
    --headers "Prefer=create-if-missing" "Content-Type=application/json" --body "@$body_file" --output none
  bundle_app=$(az rest --method get --resource "$graph" --url "$graph/v1.0/applications(uniqueName='$unique')?\$select=appId" \
    --query appId -o tsv)
  ensure_app_secret "$bundle_app" "$HOME_APP_CREDENTIAL_NAME-$name" "bundle app $name"
  wanted+=("BUNDLE_${setting}_CLIENT_ID=$bundle_app" "BUNDLE_${setting}_CREDENTIAL_NAME=$HOME_APP_CREDENTIAL_NAME-$name")
  ids="${ids:+$ids,}$setting=$bundle_app"
done 3<<<"$(printf '%s\n' "$bundles" | tail -n +2)"

# Set only what is missing or different (a change of settings restarts the Functions app).
missing=()
for pair in ${wanted[@]+"${wanted[@]}"}; do
  current=$(az functionapp config appsettings list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --query "[?name=='${pair%%=*}'].value | [0]" -o tsv)
  [ "$current" = "${pair#*=}" ] || missing+=("$pair")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Functions app $AZURE_FUNCTION_APP_NAME: ${missing[*]}"
  az functionapp config appsettings set -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --settings "${missing[@]}" --output none
fi
if command -v azd >/dev/null 2>&1; then
  azd env set BUNDLE_APP_IDS "$ids"
else
  echo "azd not found: give main.bicep bundleAppIds='$ids' at the next deployment, or it drops the BUNDLE_* settings" >&2
fi
