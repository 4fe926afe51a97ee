/**
 * The wire shapes of the broker's answers as JSON Schema 2020-12, read from the code that produces them
 * (src/http/*-api.ts, appliance-onboardings.ts, health-endpoint.ts), from token-schemas.ts the token
 * endpoint's and the authority metadata's, and from request-schemas.ts its request bodies. Answer schemas leave `additionalProperties` open so that adding a
 * field is not a breaking change; request bodies are closed, because the broker refuses unknown fields.
 * @module
 */
import { TENANT_STATUSES } from '../../tenants/tenant-store.js';
import { requestSchemas, type SchemaOptions } from './request-schemas.js';
import { grantSchemas } from './grant-schemas.js';
import { webhookSchemas } from './webhook-schemas.js';
import { tokenSchemas } from './token-schemas.js';
import { dateTime, guid, orNull, ref, strings } from './schema-parts.js';
import type { Schema } from './types.js';

export { orNull, ref } from './schema-parts.js';
export type { SchemaOptions } from './request-schemas.js';

/** Role values by key (resource scope or profile name). */
const rolesBy = (key: string): Schema => ({
  type: 'object',
  description: `App role values by ${key}.`,
  additionalProperties: strings,
});
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

export function componentSchemas(options: SchemaOptions = {}): Record<string, Schema> {
  return {
    ...requestSchemas(options),
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
    ...tokenSchemas(),
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
    ...grantSchemas(listOf),
    ...webhookSchemas(listOf),
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
        bundles: {
          type: 'array',
          description:
            'With a profiles file of several bundles: what each bundle app the tenant consented to was granted (README "Least privilege: one app per bundle"); absent with one bundle.',
          items: {
            type: 'object',
            required: ['bundle', 'clientId', 'grantedRoles', 'servicePrincipalId'],
            properties: {
              bundle: { type: 'string' },
              clientId: guid,
              grantedRoles: rolesBy('resource scope'),
              servicePrincipalId: { type: ['string', 'null'] },
            },
          },
        },
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
    TenantCheck: {
      type: 'object',
      required: ['name', 'ok', 'detail', 'remediation'],
      properties: {
        name: { type: 'string', description: 'What was checked.' },
        ok: {
          type: ['boolean', 'null'],
          description: 'null: not checked, and `detail` says why (e.g. the EWS probe without a mailbox).',
        },
        detail: { type: 'string' },
        remediation: {
          type: ['string', 'null'],
          description: 'What an admin can do; for an unreachable mailbox, the Exchange PowerShell to run.',
        },
        cause: {
          type: 'string',
          enum: [
            'ok',
            'roleMissing',
            'smtpAuthDisabledForTenant',
            'smtpAuthDisabledForMailbox',
            'notConnected',
            'loginRefused',
            'noMailbox',
            'noFullAccess',
            'reauthRequired',
            'notActive',
            'unavailable',
            'unknown',
          ],
          description:
            'For the logins (`imap:`, `pop:`, `smtp:`, `grant:…`) and a `mailbox:` that does not exist: why, in a stable word support and tools can branch on.',
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
        authMethod: { type: 'string', enum: ['client_secret', 'private_key_jwt', 'none'] },
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
            kind: { type: 'string', enum: ['staff', 'admin', 'user', 'appliance', 'system', 'anonymous'] },
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
