/**
 * The answers of the token endpoint (RFC 6749 §5.1, §5.2; Entra's v1 shape), of the RFC 8414 metadata and of
 * each tenant's OpenID configuration (src/http/token-endpoint.ts, src/http/openid-configuration.ts), as JSON
 * Schema 2020-12. Open to added fields, as every answer schema is (schemas.ts).
 * @module
 */
import { strings } from './schema-parts.js';
import type { Schema } from './types.js';

export function tokenSchemas(): Record<string, Schema> {
  return {
    OAuthError: {
      type: 'object',
      description:
        'RFC 6749 §5.2 error response of the token endpoint. `temporarily_unavailable` comes with 503 (Microsoft Entra ID or storage unreachable) or 429 (too many failed client authentications), each with Retry-After; `server_error` with 500.',
      required: ['error'],
      properties: {
        error: {
          type: 'string',
          enum: [
            'invalid_request',
            'invalid_client',
            'invalid_grant',
            'unauthorized_client',
            'unsupported_grant_type',
            'invalid_scope',
            'temporarily_unavailable',
            'server_error',
            'authorization_pending',
            'slow_down',
            'expired_token',
            'authorization_declined',
            'bad_verification_code',
            'access_denied',
          ],
        },
        error_description: {
          type: 'string',
          description:
            'Plain words; for `invalid_grant` it names the cause (no consent, revoked, AADSTS code).',
        },
        error_uri: { type: 'string', format: 'uri' },
      },
    },
    EnrollmentResponse: {
      type: 'object',
      description:
        "RFC 8628 §3.2 for a device without a credential (`POST /appliance/enroll`): show `message` (or `user_code` and `verification_uri`) to the customer's administrator, then poll the token endpoint with `grant_type=urn:ietf:params:oauth:grant-type:device_code` and this `device_code`, without any client authentication, every `interval` seconds.",
      required: [
        'device_code',
        'user_code',
        'verification_uri',
        'verification_uri_complete',
        'expires_in',
        'interval',
        'message',
      ],
      properties: {
        device_code: {
          type: 'string',
          pattern: '^cbe_[A-Za-z0-9_-]{43}$',
          description: 'For the polls only; never shown.',
        },
        user_code: { type: 'string', pattern: '^[B-Z]{4}-[B-Z]{4}$' },
        verification_uri: { type: 'string', format: 'uri', description: '`{BROKER_PUBLIC_URL}/enroll`.' },
        verification_uri_complete: {
          type: 'string',
          format: 'uri',
          description: 'With the code filled in (e.g. for a QR code).',
        },
        expires_in: { type: 'integer', const: 900 },
        interval: { type: 'integer', const: 5 },
        message: { type: 'string' },
      },
    },
    EnrolledClient: {
      type: 'object',
      description:
        "The enrolled device's own credential, once, when the administrator has confirmed it: RFC 7591 §3.2.1's client information (a `client_secret` only when the enrollment sent no `jwks`), its bound tenant and profiles, and where to get tokens. A later poll gets `invalid_grant`.",
      required: [
        'client_id',
        'client_id_issued_at',
        'token_endpoint_auth_method',
        'tenant_id',
        'profiles',
        'token_endpoint',
      ],
      properties: {
        client_id: { type: 'string', format: 'uuid' },
        client_secret: { type: 'string', description: 'Shown here once; stored only as a verifier.' },
        client_id_issued_at: { type: 'integer' },
        client_secret_expires_at: {
          const: 0,
          description: 'RFC 7591: 0, does not expire (rotate it via support).',
        },
        token_endpoint_auth_method: { enum: ['client_secret_basic', 'private_key_jwt'] },
        tenant_id: { type: 'string', format: 'uuid' },
        profiles: strings,
        token_endpoint: { type: 'string', format: 'uri' },
      },
    },
    DeviceAuthorizationResponse: {
      type: 'object',
      description:
        "RFC 8628 §3.2, as Entra's `/devicecode` answers (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code): show `message` (or `user_code` and `verification_uri`) to the user, then poll the token endpoint with `grant_type=urn:ietf:params:oauth:grant-type:device_code` every `interval` seconds.",
      required: ['device_code', 'user_code', 'verification_uri', 'expires_in', 'interval', 'message'],
      properties: {
        device_code: { type: 'string', description: 'For the polls only; never shown.' },
        user_code: { type: 'string', pattern: '^[B-Z]{4}-[B-Z]{4}$' },
        verification_uri: { type: 'string', format: 'uri', description: '`{BROKER_PUBLIC_URL}/device`.' },
        expires_in: { type: 'integer', const: 900 },
        interval: { type: 'integer', const: 5 },
        message: { type: 'string' },
      },
    },
    TokenResponse: {
      type: 'object',
      description:
        "RFC 6749 §5.1: the Microsoft access token for the appliance's bound tenant (client credentials: no refresh token), or a mailbox grant user's token (a refresh: `refresh_token` is the grant's broker handle again, never Microsoft's).",
      required: ['token_type', 'access_token', 'expires_in', 'scope'],
      properties: {
        token_type: { const: 'Bearer' },
        access_token: { type: 'string' },
        refresh_token: { type: 'string', description: 'A refresh only: the grant’s broker handle.' },
        expires_in: { type: 'integer', minimum: 0, description: 'Seconds the token has left.' },
        scope: {
          type: 'string',
          description:
            'The resource scope the token is for, in the spelling asked (one the profiles file declares for the resource).',
        },
      },
    },
    TokenResponseV1: {
      type: 'object',
      description:
        "The answer of Entra's v1 token endpoint, for `POST /{tenant}/oauth2/token`: numbers as JSON strings, and the resource instead of a scope (https://learn.microsoft.com/en-us/azure/active-directory/azuread-dev/v1-oauth2-client-creds-grant-flow).",
      required: ['token_type', 'access_token', 'expires_in', 'expires_on', 'resource'],
      properties: {
        token_type: { const: 'Bearer' },
        access_token: { type: 'string' },
        expires_in: { type: 'string', pattern: '^[0-9]+$', description: 'Seconds the token has left.' },
        ext_expires_in: { type: 'string', pattern: '^[0-9]+$' },
        expires_on: {
          type: 'string',
          pattern: '^[0-9]+$',
          description: 'When it expires, in seconds since the epoch.',
        },
        resource: {
          type: 'string',
          description: 'The resource as asked, e.g. `https://outlook.office365.com`.',
        },
      },
    },
    OpenIdConfiguration: {
      type: 'object',
      description:
        "The authority metadata of an appliance's tenant, shaped as Entra's (`https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration`, or v1 without `/v2.0`), describing the broker's own endpoints, so that an OpenID client such as MSAL whose authority is the broker's host finds the token endpoint. The broker issues no ID tokens and has no sign-in: `authorization_endpoint` (which MSAL requires) answers `unsupported_response_type`; `jwks_uri` is Entra's, which signs the tokens the broker hands on.",
      required: ['issuer', 'token_endpoint', 'authorization_endpoint', 'jwks_uri'],
      properties: {
        issuer: { type: 'string', format: 'uri' },
        token_endpoint: { type: 'string', format: 'uri' },
        authorization_endpoint: { type: 'string', format: 'uri' },
        jwks_uri: { type: 'string', format: 'uri' },
        token_endpoint_auth_methods_supported: strings,
        token_endpoint_auth_signing_alg_values_supported: strings,
        grant_types_supported: strings,
        response_types_supported: strings,
        scopes_supported: strings,
      },
    },
    AuthorizationServerMetadata: {
      type: 'object',
      description: 'RFC 8414 §2, built from the configuration.',
      required: [
        'issuer',
        'token_endpoint',
        'grant_types_supported',
        'token_endpoint_auth_methods_supported',
      ],
      properties: {
        issuer: { type: 'string', format: 'uri' },
        token_endpoint: { type: 'string', format: 'uri' },
        token_endpoint_auth_methods_supported: strings,
        token_endpoint_auth_signing_alg_values_supported: strings,
        grant_types_supported: strings,
        response_types_supported: strings,
        scopes_supported: strings,
        service_documentation: { type: 'string', format: 'uri' },
      },
    },
  };
}
