/**
 * Key Vault's error bodies: `{"error":{"code","message","innererror"?}}` (FACTS.md §8.2; KV-AUTH shows
 * `BadArgument`; the SDK reads `innererror`, `npm:@azure/keyvault-secrets@4.12.0:dist/esm/models/models.js`
 * `_keyVaultErrorErrorDeserializer`). Each constructor names where its code and message were seen.
 * @module
 */
import { json, type SimResponse } from '../common/server.js';

export class KeyVaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toResponse(): SimResponse {
    return json(
      this.status,
      {
        error: {
          code: this.code,
          message: this.message,
          ...(this.innerCode ? { innererror: { code: this.innerCode } } : {}),
        },
      },
      this.headers,
    );
  }
}

/** Generic codes by status, for faults, unknown routes and simulator bugs. 429 `Throttled`: **unverified**. */
const CODES: Record<number, string> = {
  400: 'BadParameter',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestTooLarge',
  429: 'Throttled',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

export function keyVaultErrorBody(status: number, message: string): SimResponse {
  return new KeyVaultError(
    status,
    CODES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadParameter'),
    message,
  ).toResponse();
}

const NOT_FOUND_HELP =
  'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/**
 * 404 SecretNotFound. Message as the live service answered in the SDK's nightly tests
 * (https://github.com/Azure/azure-sdk-for-js/issues/25489).
 */
export function secretNotFound(nameOrId: string): KeyVaultError {
  return new KeyVaultError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${nameOrId} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. ${NOT_FOUND_HELP}`,
  );
}

/** 404 for deleted-secret operations (live body quoted in https://github.com/Azure/azure-sdk-for-net/issues/26027). */
export function deletedSecretNotFound(name: string): KeyVaultError {
  return new KeyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
}

/**
 * 409 on reusing a soft-deleted name: code `Conflict`, inner `ObjectIsDeletedButRecoverable`
 * (`Azure/azure-sdk-for-net:sdk/keyvault/Azure.Security.KeyVault.Secrets/samples/Sample4_ErrorResponse.md`);
 * message as quoted from the live service in https://github.com/microsoft/AzureKeyVaultExplorer/issues/42.
 */
export function deletedButRecoverable(name: string): KeyVaultError {
  return new KeyVaultError(
    409,
    'Conflict',
    `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    'ObjectIsDeletedButRecoverable',
  );
}

/**
 * 409 on a PUT (or another recover) while a recovery is still in progress: inner `ObjectIsBeingRecovered`, message
 * as the live service answered a PUT (hashicorp/terraform-provider-azurerm#12285; also right after the .NET SDK's
 * recover operation had completed, Azure/azure-sdk-for-net#31581). The answer to a second recover: **unverified**.
 */
export function beingRecovered(name: string): KeyVaultError {
  return new KeyVaultError(
    409,
    'Conflict',
    `Secret ${name} is currently being recovered and cannot be re-created; retry later.`,
    'ObjectIsBeingRecovered',
  );
}

/** 409 while a delete is still in progress: inner `ObjectIsBeingDeleted` (same .NET sample); message **unverified**. */
export function beingDeleted(name: string): KeyVaultError {
  return new KeyVaultError(
    409,
    'Conflict',
    `Secret ${name} is currently being deleted.`,
    'ObjectIsBeingDeleted',
  );
}

/**
 * 403 on getting a disabled secret (live body in https://github.com/Azure/azure-sdk-for-js/issues/24756:
 * code Forbidden, inner SecretDisabled).
 */
export function secretDisabled(): KeyVaultError {
  return new KeyVaultError(
    403,
    'Forbidden',
    'Operation get is not allowed on a disabled secret.',
    'SecretDisabled',
  );
}

/**
 * 400 on a bad object name: "The request URI contains an invalid name: {name}" with code BadParameter
 * (https://github.com/aspnet/MicrosoftConfigurationBuilders/issues/22;
 * `Azure/azure-sdk-for-rust:sdk/keyvault/azure_security_keyvault_secrets` error example).
 */
export function invalidName(name: string): KeyVaultError {
  return new KeyVaultError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
}

export function badParameter(message: string): KeyVaultError {
  return new KeyVaultError(400, 'BadParameter', message);
}
