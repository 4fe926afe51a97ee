/**
 * The wire shapes of the broker's answers and request bodies as JSON Schema 2020-12, read from the code that
 * produces them (src/http/*-api.ts, token-endpoint.ts, appliance-onboardings.ts, health-endpoint.ts). Answer
 * schemas leave `additionalProperties` open so that adding a field is not a breaking change; request bodies
 * are closed, because the broker refuses unknown fields (src/http/json-body.ts).
 * @module
 */
import {
  APPLIANCE_REF_PATTERN,
  CUSTOMER_REF_MAX_LENGTH,
  CUSTOMER_REF_PATTERN,
  GUID_PATTERN,
  PROFILE_NAME_PATTERN,
} from '../../ids.js';
import { MAX_CHECK_MAILBOXES } from '../../support/mailbox-address.js';
import { TENANT_STATUSES } from '../../tenants/tenant-store.js';
import type { Schema } from './types.js';

/** `#/components/schemas/{name}` */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** `schema`, or null (JSON Schema 2020-12 has no `nullable`). */
export const orNull = (schema: Schema): Schema =>
  schema.$ref !== undefined ? { anyOf: [schema, { type: 'null' }] } : withNull(schema);

function withNull(schema: Schema): Schema {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length === 0) return { anyOf: [schema, { type: 'null' }] };
  return {
    ...schema,
    type: [...types, 'null'],
    ...(schema.enum ? { enum: [...schema.enum, null] } : {}),
  };
}

const guid: Schema = {
  type: 'string',
  format: 'uuid',
  pattern: GUID_PATTERN,
};
const dateTime: Schema = { type: 'string', format: 'date-time' };
const strings: Schema = { type: 'array', items: { type: 'string' } };
/** Role values by key (resource scope or profile name). */
const rolesBy = (key: string): Schema => ({
  type: 'object',
  description: `App role values by ${key}.`,
  additionalProperties: strings,
});
const customerRef: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: CUSTOMER_REF_MAX_LENGTH,
  pattern: CUSTOMER_REF_PATTERN,
  description: `The vendor's own customer or site id: 1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters (no control or format characters); leading and trailing white space is dropped.`,
};
const continuationToken: Schema = {
  type: 'string',
  description:
    'Pass it back as the `continuationToken` query parameter for the next page; absent on the last.',
};

/** A page of `item`: `{items, continuationToken?}` (SPEC.md "Every list answers …"). */
const listOf = (item: string, description: string): Schema => ({
  type: 'object',
  description,
  required: ['items'],
  properties: { items: { type: 'array', items: ref(item) }, continuationToken },
});

export interface SchemaOptions {
  /** Profile names the broker knows; when given, request bodies list them as an enum. */
  readonly profileNames?: readonly string[];
  /** Resource scopes the broker serves; when given, the token request lists them as examples. */
  readonly scopes?: readonly string[];
}

export function componentSchemas(options: SchemaOptions = {}): Record<string, Schema> {
  const profileName: Schema = options.profileNames?.length
    ? { type: 'string', enum: [...options.profileNames] }
    : { type: 'string', pattern: PROFILE_NAME_PATTERN };
  const profileList: Schema = { type: 'array', minItems: 1, uniqueItems: true, items: profileName };

  return {
    Problem: {
      type: 'object',
      description:
        'RFC 9457 problem details (`application/problem+json`). `type` is `about:blank` unless a more specific URI is given; extension members may follow (RFC 9457 §3.2), e.g. `error` with the OAuth code on the appliance routes.',
      required: ['type', 'title', 'status'],
      properties: {
        type: { type: 'string', format: 'uri-reference', default: 'about:blank' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        detail: { type: 'string' },
        instance: { type: 'string', format: 'uri-reference' },
        error: {
          type: 'string',
          description: 'On the appliance routes: the RFC 6749 §5.2 code of a failed client authentication.',
        },
      },
    },
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
    TokenRequest: {
      type: 'object',
      description:
        'RFC 6749 §4.4.2 client-credentials request, form-encoded, each parameter at most once (§3.2). Exactly one client authentication: HTTP Basic (`clientSecretBasic`), or `client_id` + `client_secret` in the body (client_secret_post, §2.3.1), or `client_assertion_type` + `client_assertion` (private_key_jwt, RFC 7523 §2.2: a JWT signed with a key registered for the appliance, `iss` = `sub` = client id, `aud` = the token endpoint URL or the issuer, `exp` at most 5 minutes ahead, `jti` never used before). At most 16 KiB.',
      required: ['grant_type', 'scope'],
      properties: {
        grant_type: { const: 'client_credentials' },
        scope: {
          type: 'string',
          ...(options.scopes?.length ? { examples: [...options.scopes] } : {}),
          description:
            "One resource `.default` scope that the appliance's profiles allow, e.g. `https://outlook.office365.com/.default`.",
        },
        client_id: { type: 'string', description: 'Required with client_secret; optional otherwise.' },
        client_secret: { type: 'string', writeOnly: true, description: 'client_secret_post.' },
        client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
        client_assertion: { type: 'string', writeOnly: true, description: 'private_key_jwt (RFC 7523).' },
      },
      additionalProperties: { type: 'string' },
    },
    ClientAuthenticationForm: {
      type: 'object',
      description:
        'Client authentication in the body (client_secret_post or private_key_jwt), as at the token endpoint; the body may be empty when HTTP Basic is used.',
      properties: {
        client_id: { type: 'string' },
        client_secret: { type: 'string', writeOnly: true },
        client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
        client_assertion: { type: 'string', writeOnly: true },
      },
      additionalProperties: { type: 'string' },
    },
    TokenResponse: {
      type: 'object',
      description:
        "RFC 6749 §5.1: the Microsoft access token for the appliance's bound tenant (no refresh token).",
      required: ['token_type', 'access_token', 'expires_in', 'scope'],
      properties: {
        token_type: { const: 'Bearer' },
        access_token: { type: 'string' },
        expires_in: { type: 'integer', minimum: 0, description: 'Seconds the token has left.' },
        scope: { type: 'string', description: 'The canonical resource scope the token is for.' },
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
    OnboardingRequest: {
      type: 'object',
      additionalProperties: false,
      required: ['customerRef'],
      properties: {
        customerRef,
        applianceId: {
          type: ['string', 'null'],
          pattern: APPLIANCE_REF_PATTERN,
          description: 'Binds the onboarding to this appliance: its tenant is set when the consent is done.',
        },
        profiles: { ...profileList, description: 'Profiles to ask consent for; all of them when absent.' },
      },
    },
    OnboardingCreated: {
      type: 'object',
      description: 'The consent link; `code` is shown only here (it is stored as a hash).',
      required: ['id', 'code', 'consentUrl', 'expiresAt'],
      properties: {
        id: guid,
        code: { type: 'string' },
        consentUrl: {
          type: 'string',
          format: 'uri',
          description: 'Always `${BROKER_PUBLIC_URL}/connect/{code}`.',
        },
        expiresAt: dateTime,
      },
    },
    OnboardingStatus: { type: 'string', enum: ['pending', 'consented', 'failed', 'expired'] },
    OnboardingError: {
      type: 'object',
      required: ['code', 'message', 'at'],
      properties: {
        code: { type: 'string', description: 'e.g. `AADSTS65004`, `consent_required`, `not_an_admin`.' },
        message: { type: 'string' },
        at: dateTime,
      },
    },
    Onboarding: {
      type: 'object',
      description: 'An onboarding as support sees it (never its code).',
      required: [
        'id',
        'status',
        'customerRef',
        'applianceId',
        'profiles',
        'createdAt',
        'expiresAt',
        'tenantId',
        'progress',
        'confirmedBy',
        'grantedRoles',
        'missingRoles',
        'error',
      ],
      properties: {
        id: guid,
        status: ref('OnboardingStatus'),
        customerRef: { type: 'string' },
        applianceId: { type: ['string', 'null'] },
        profiles: strings,
        createdAt: dateTime,
        expiresAt: dateTime,
        tenantId: orNull(guid),
        progress: {
          type: ['string', 'null'],
          enum: ['awaiting_confirmation', 'pending_verification', null],
          description:
            '`awaiting_confirmation`: consented, waiting for the admin to confirm the appliance it binds; `pending_verification`: a consent Microsoft accepted is being proven (directory replication).',
        },
        confirmedBy: orNull({
          type: 'object',
          description: 'The admin who confirmed binding the appliance.',
          required: ['objectId', 'displayName', 'at'],
          properties: { objectId: guid, displayName: { type: 'string' }, at: dateTime },
        }),
        grantedRoles: orNull(rolesBy('resource scope')),
        missingRoles: orNull(rolesBy('profile name')),
        error: orNull(ref('OnboardingError')),
      },
    },
    ApplianceOnboardingCreated: {
      type: 'object',
      required: ['id', 'consentUrl', 'expiresAt'],
      properties: {
        id: guid,
        consentUrl: {
          type: 'string',
          format: 'uri',
          description:
            'Always `${BROKER_PUBLIC_URL}/connect/{code}`: open it in the customer admin’s browser.',
        },
        expiresAt: dateTime,
      },
    },
    ApplianceOnboarding: {
      type: 'object',
      description:
        'What the appliance sees of its own onboarding; its tenant and roles only once the admin has confirmed the appliance (`consented`, or being proven after confirmation).',
      required: [
        'id',
        'status',
        'expiresAt',
        'tenantId',
        'progress',
        'grantedRoles',
        'missingRoles',
        'error',
      ],
      properties: {
        id: guid,
        status: ref('OnboardingStatus'),
        expiresAt: dateTime,
        tenantId: orNull(guid),
        progress: {
          type: ['string', 'null'],
          enum: ['awaiting_confirmation', 'pending_verification', null],
        },
        grantedRoles: orNull(rolesBy('resource scope')),
        missingRoles: orNull(rolesBy('profile name')),
        error: orNull(ref('OnboardingError')),
      },
    },
    TenantStatus: {
      type: 'string',
      enum: TENANT_STATUSES,
    },
    TenantError: {
      type: 'object',
      required: ['code', 'message', 'at', 'remediation'],
      properties: {
        code: { type: 'string', description: 'e.g. an AADSTS code.' },
        message: { type: 'string' },
        at: dateTime,
        remediation: { type: 'string', description: 'What an admin can do about it.' },
      },
    },
    AppCredentialView: {
      type: 'object',
      description: 'A customer-owned app credential the broker holds (the secret is never returned).',
      required: ['clientId', 'expiresOn'],
      properties: { clientId: guid, expiresOn: dateTime },
    },
    Tenant: {
      type: 'object',
      description: 'A customer tenant as the broker recorded it.',
      required: [
        'tenantId',
        'status',
        'displayName',
        'verifiedDomains',
        'customerRefs',
        'consentedAt',
        'grantedRoles',
        'missingRoles',
        'lastTokenAt',
        'lastError',
      ],
      properties: {
        tenantId: guid,
        status: ref('TenantStatus'),
        displayName: { type: ['string', 'null'] },
        verifiedDomains: strings,
        customerRefs: strings,
        consentedAt: orNull(dateTime),
        consentedBy: orNull({
          type: 'object',
          required: ['objectId', 'displayName'],
          properties: { objectId: { type: 'string' }, displayName: { type: 'string' } },
        }),
        profiles: strings,
        grantedRoles: rolesBy('resource scope'),
        missingRoles: rolesBy('profile name'),
        servicePrincipalId: {
          type: ['string', 'null'],
          description: "The home app's service principal object id in the tenant.",
        },
        verification: orNull({
          type: 'object',
          description: 'While `pending_verification`: the background re-checks.',
          required: ['since', 'attempts', 'nextCheckAt'],
          properties: { since: dateTime, attempts: { type: 'integer', minimum: 0 }, nextCheckAt: dateTime },
        }),
        lastTokenAt: orNull(dateTime),
        lastError: orNull(ref('TenantError')),
        appCredential: orNull({
          ...ref('AppCredentialView'),
          description: 'The customer-owned app used instead of the home app, if any ("bring your own app").',
        }),
      },
    },
    TenantDetail: {
      description: 'A tenant with its appliances (`GET /api/tenants/{tenantId}`).',
      allOf: [
        ref('Tenant'),
        {
          type: 'object',
          required: ['appliances'],
          properties: {
            appliances: {
              type: 'array',
              items: {
                type: 'object',
                required: ['clientId', 'status', 'lastSeenAt'],
                properties: {
                  clientId: guid,
                  status: { type: 'string', enum: ['active', 'revoked'] },
                  lastSeenAt: orNull(dateTime),
                  tokenCount: { type: 'integer', minimum: 0 },
                },
              },
            },
          },
        },
      ],
    },
    TenantList: listOf('Tenant', 'A page of tenants in tenant-id order.'),
    TenantCheckRequest: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mailboxes: {
          type: 'array',
          maxItems: MAX_CHECK_MAILBOXES,
          items: { type: 'string', format: 'email' },
          description: 'Mailboxes to probe through Microsoft Graph (at most 20).',
        },
      },
    },
    TenantCheck: {
      type: 'object',
      required: ['name', 'ok', 'detail', 'remediation'],
      properties: {
        name: { type: 'string', description: 'What was checked.' },
        ok: { type: 'boolean' },
        detail: { type: 'string' },
        remediation: {
          type: ['string', 'null'],
          description: 'What an admin can do; for an unreachable mailbox, the Exchange PowerShell to run.',
        },
      },
    },
    TenantCheckResult: {
      type: 'object',
      description: 'Each live check with its outcome.',
      required: ['tenantId', 'checkedAt', 'status', 'checks'],
      properties: {
        tenantId: guid,
        checkedAt: dateTime,
        status: { ...ref('TenantStatus'), description: "The tenant's status after the check." },
        checks: { type: 'array', items: ref('TenantCheck') },
      },
    },
    AppCredentialRequest: {
      type: 'object',
      description:
        'A customer-owned app registration used instead of the home app ("bring your own app"). Exactly one of clientSecret or certificate (PEM with its private key). Stored in Key Vault; never returned.',
      additionalProperties: false,
      required: ['clientId', 'expiresOn'],
      properties: {
        clientId: guid,
        clientSecret: { type: 'string', writeOnly: true },
        certificate: { type: 'string', writeOnly: true, description: 'PEM: certificate and private key.' },
        expiresOn: { ...dateTime, description: 'Must lie in the future.' },
      },
      oneOf: [{ required: ['clientSecret'] }, { required: ['certificate'] }],
    },
    Jwks: {
      type: 'object',
      description: 'A JWK Set (RFC 7517 §5), given inline (RFC 7591 §2); public keys only.',
      required: ['keys'],
      properties: {
        keys: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['kty'], properties: { kty: { type: 'string' } } },
        },
      },
    },
    ApplianceRequest: {
      type: 'object',
      additionalProperties: false,
      required: ['customerRef', 'profiles', 'auth'],
      properties: {
        customerRef,
        tenantId: {
          ...orNull(guid),
          description:
            'Assigns the appliance to a tenant directly (audited); otherwise it is bound by its first completed onboarding.',
        },
        profiles: profileList,
        auth: {
          type: 'object',
          additionalProperties: false,
          required: ['method'],
          properties: {
            method: { type: 'string', enum: ['client_secret', 'private_key_jwt'] },
            jwks: { ...ref('Jwks'), description: 'Required with private_key_jwt.' },
          },
        },
      },
    },
    ApplianceCreated: {
      type: 'object',
      description:
        'The new appliance; `clientSecret` (client_secret only) is shown here once and never again.',
      required: ['clientId'],
      properties: { clientId: guid, clientSecret: { type: 'string' } },
    },
    SecretRotated: {
      type: 'object',
      description:
        'The new secret, shown once; the previous one keeps working until `previousSecretValidUntil`.',
      required: ['clientSecret', 'previousSecretValidUntil'],
      properties: { clientSecret: { type: 'string' }, previousSecretValidUntil: dateTime },
    },
    Appliance: {
      type: 'object',
      description: 'An appliance (never its secret verifiers).',
      required: [
        'clientId',
        'customerRef',
        'tenantId',
        'profiles',
        'authMethod',
        'status',
        'createdAt',
        'createdBy',
        'revokedAt',
        'lastSeenAt',
        'tokenCount',
      ],
      properties: {
        clientId: guid,
        customerRef: { type: 'string' },
        tenantId: orNull(guid),
        profiles: strings,
        authMethod: { type: 'string', enum: ['client_secret', 'private_key_jwt'] },
        status: { type: 'string', enum: ['active', 'revoked'] },
        createdAt: dateTime,
        createdBy: { type: 'string' },
        revokedAt: orNull(dateTime),
        lastSeenAt: orNull(dateTime),
        tokenCount: { type: 'integer', minimum: 0 },
        jwks: { ...ref('Jwks'), description: 'With private_key_jwt: its public keys.' },
      },
    },
    ApplianceList: listOf('Appliance', 'A page of appliances.'),
    AuditEntry: {
      type: 'object',
      description: 'Who did what when; never a secret or token.',
      required: ['at', 'action', 'tenantId', 'actor', 'target', 'outcome', 'correlationId', 'details'],
      properties: {
        at: dateTime,
        action: { type: 'string', examples: ['consent.granted', 'appliance.registered', 'tokens.issued'] },
        tenantId: orNull(guid),
        target: {
          type: ['string', 'null'],
          description:
            "What the action was done to: an appliance's client id, an onboarding id, or the tenant.",
        },
        outcome: { type: 'string', enum: ['success', 'refused', 'failed'] },
        correlationId: {
          type: 'string',
          description: 'The Functions invocation id of the request or timer run that wrote the entry.',
        },
        actor: {
          type: 'object',
          required: ['kind', 'id'],
          properties: {
            kind: { type: 'string', enum: ['staff', 'admin', 'appliance', 'system', 'anonymous'] },
            id: { type: 'string', description: 'An object id, a client id or `broker`.' },
            name: { type: 'string' },
          },
        },
        details: { type: 'object' },
      },
    },
    AuditList: listOf('AuditEntry', 'A page of audit entries, oldest first.'),
    Health: {
      type: 'object',
      description: 'Liveness and the state of each dependency; no secrets and no tenant data.',
      required: ['status', 'checkedAt', 'dependencies'],
      properties: {
        status: {
          type: 'string',
          enum: ['ok', 'degraded'],
          description: '`degraded` when a dependency is down; the process is alive either way.',
        },
        checkedAt: dateTime,
        dependencies: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['status', 'latencyMs'],
            properties: {
              status: { type: 'string', enum: ['up', 'down'] },
              latencyMs: { type: 'integer', minimum: 0 },
              reason: { type: 'string', description: 'An error class name or `timeout`.' },
            },
          },
        },
      },
    },
  };
}
