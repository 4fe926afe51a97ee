/**
 * The request bodies of the broker as JSON Schema 2020-12: the token endpoint's form, and the support API's
 * JSON bodies, which src/http/routes/validation.ts compiles to check requests with. Closed
 * (`additionalProperties: false`) where the broker refuses unknown fields.
 * @module
 */
import { APPLIANCE_REF_PATTERN, CERTIFICATE_PEM_MAX_LENGTH, CLIENT_SECRET_VALUE_PATTERN } from '../../ids.js';
import { MAX_CHECK_MAILBOXES } from '../../support/mailbox-address.js';
import { MAX_GRANT_CHECKS } from '../../support/checks-grants.js';
import { customerRef, dateTime, guid, orNull, profileList as profiles, ref } from './schema-parts.js';
import type { Schema } from './types.js';

export interface SchemaOptions {
  /** Profile names the broker knows; when given, request bodies list them as an enum. */
  readonly profileNames?: readonly string[];
  /** Resource scopes the broker serves; when given, the token request lists them as examples. */
  readonly scopes?: readonly string[];
}

/** Client authentication in a token request's body, the same on the v2 and the v1 path. */
const tokenClientAuthentication: Readonly<Record<string, Schema>> = {
  client_id: { type: 'string', description: 'Required with client_secret; optional otherwise.' },
  client_secret: { type: 'string', writeOnly: true, description: 'client_secret_post.' },
  client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
  client_assertion: { type: 'string', writeOnly: true, description: 'private_key_jwt (RFC 7523).' },
};

export function requestSchemas(options: SchemaOptions = {}): Record<string, Schema> {
  const profileList = profiles(options.profileNames);
  const delegatedProfiles: Schema = {
    ...profileList,
    description: 'Delegated profiles (`kind: delegated`) the appliance is allowed.',
  };
  const grantMailbox: Schema = {
    type: 'string',
    format: 'email',
    maxLength: 254,
    description:
      'The mailbox whose user signs in, of a verified domain of the tenant; anyone of the tenant when absent.',
  };
  return {
    TokenRequest: {
      type: 'object',
      description:
        "RFC 6749 §4.4.2 client-credentials request, or §6 refresh of a mailbox grant (`grant_type=refresh_token`, `refresh_token` = the grant's broker handle from `GET /appliance/mailbox-grants/{grantId}`, `scope` optional: one of the grant's delegated scopes, its first by default; answered with the grant user's token and the handle as `refresh_token`), form-encoded, each parameter at most once (§3.2). Exactly one client authentication: HTTP Basic (`clientSecretBasic`), or `client_id` + `client_secret` in the body (client_secret_post, §2.3.1), or `client_assertion_type` + `client_assertion` (private_key_jwt, RFC 7523 §2.2: a JWT signed with a key registered for the appliance, `iss` = `sub` = client id, `aud` = the token endpoint URL or the issuer, `exp` at most 5 minutes ahead, `jti` never used before). At most 16 KiB.",
      required: ['grant_type'],
      properties: {
        grant_type: {
          enum: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        },
        device_code: {
          type: 'string',
          writeOnly: true,
          description:
            'With the device-code grant: the `device_code` of `/{tenant}/oauth2/v2.0/devicecode`. A public client (auth method `none`) sends only `client_id`.',
        },
        refresh_token: {
          type: 'string',
          writeOnly: true,
          description:
            'With `grant_type=refresh_token`: the broker handle of one of the appliance’s mailbox grants.',
        },
        scope: {
          type: 'string',
          ...(options.scopes?.length ? { examples: [...options.scopes] } : {}),
          description:
            "Client credentials (required): one resource `.default` scope that the appliance's profiles allow, e.g. `https://outlook.office365.com/.default`. A refresh: one delegated scope of the grant, e.g. `https://outlook.office365.com/IMAP.AccessAsUser.All`.",
        },
        ...tokenClientAuthentication,
      },
      additionalProperties: { type: 'string' },
    },
    DeviceAuthorizationRequest: {
      type: 'object',
      description:
        'RFC 8628 §3.1 as Entra takes it: `client_id` and the delegated `scope`s the device needs (`offline_access` and OpenID scopes are accepted and need nothing). A public client (auth method `none`) sends only `client_id`; a confidential one authenticates as at the token endpoint.',
      required: ['scope'],
      properties: {
        scope: {
          type: 'string',
          examples: ['https://outlook.office.com/SMTP.Send offline_access'],
          description:
            "Delegated scopes of the appliance's delegated profiles, in any spelling of their resource; a bare Graph scope (`Mail.Send`) is Graph's.",
        },
        ...tokenClientAuthentication,
      },
      additionalProperties: { type: 'string' },
    },
    EnrollmentRequest: {
      type: 'object',
      description:
        'A device without a credential asks to be enrolled (RFC 8628 §3.1 shape, no client authentication): the profiles it needs, optionally its public keys so that it authenticates with private_key_jwt and never holds a secret.',
      required: ['scope'],
      additionalProperties: false,
      properties: {
        scope: {
          type: 'string',
          examples: ['exchange-imap exchange-smtp'],
          description: 'Profile names from the profiles file, space-separated.',
        },
        customer_ref: {
          type: 'string',
          pattern: APPLIANCE_REF_PATTERN,
          description:
            "The vendor's own site or customer id, shown to the administrator; default `enrolled-` and the first 8 characters of the enrollment id.",
        },
        jwks: {
          type: 'string',
          description: 'A JWK Set of 1-5 public keys (RS256, PS256 or ES256), as JSON text.',
        },
      },
    },
    TokenRequestV1: {
      type: 'object',
      description:
        "Entra's v1 client-credentials request (https://learn.microsoft.com/en-us/azure/active-directory/azuread-dev/v1-oauth2-client-creds-grant-flow): as TokenRequest, with `resource` instead of `scope` (a `scope` is ignored, as Entra's v1 endpoint ignores it).",
      required: ['grant_type', 'resource'],
      properties: {
        grant_type: { const: 'client_credentials' },
        resource: {
          type: 'string',
          description:
            "The App ID URI or application id of one resource the appliance's profiles allow, e.g. `https://outlook.office365.com`.",
        },
        ...tokenClientAuthentication,
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
    MailboxGrantRequest: {
      type: 'object',
      description:
        'A mailbox grant for one appliance of the tenant: delegated profiles it is allowed, and optionally the mailbox whose user must sign in.',
      additionalProperties: false,
      required: ['applianceId', 'profiles'],
      properties: {
        applianceId: { ...guid, description: "The appliance's client id." },
        profiles: delegatedProfiles,
        mailbox: grantMailbox,
      },
    },
    ApplianceMailboxGrantRequest: {
      type: 'object',
      description:
        'A mailbox grant the appliance asks for itself, in its bound tenant: delegated profiles it is allowed, and optionally the mailbox whose user must sign in.',
      additionalProperties: false,
      required: ['profiles'],
      properties: {
        profiles: delegatedProfiles,
        mailbox: grantMailbox,
      },
    },
    TenantCheckRequest: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mailboxes: {
          type: 'array',
          maxItems: MAX_CHECK_MAILBOXES,
          items: { type: 'string', format: 'email' },
          description:
            'Mailboxes to probe through Microsoft Graph (at most 20), and to log in to (the first 3).',
        },
        protocols: {
          type: 'array',
          uniqueItems: true,
          maxItems: 4,
          items: { enum: ['imap', 'pop', 'smtp', 'ews'] },
          description:
            "Log in to each mailbox as the PBX would (IMAP: XOAUTH2 and EXAMINE INBOX; POP3: XOAUTH2 and STAT; SMTP: STARTTLS and XOAUTH2, no message; EWS: a read-only GetFolder), each answer turned into its cause and the PowerShell that fixes it. Default: the protocols of the tenant's profiles. Also limits the logins of the mailbox grants checked.",
        },
        grants: {
          type: 'array',
          uniqueItems: true,
          maxItems: MAX_GRANT_CHECKS,
          items: guid,
          description:
            "Mailbox grants (ids) to check: each user's sign-in refreshed now, and an IMAP / POP / SMTP login with the user's token to the grant's mailbox. Default: the tenant's first 5 grants that are active or need the user to sign in again; [] checks none.",
        },
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
        clientSecret: {
          type: 'string',
          writeOnly: true,
          pattern: CLIENT_SECRET_VALUE_PATTERN,
          description: 'The secret value (not its id).',
        },
        certificate: {
          type: 'string',
          writeOnly: true,
          maxLength: CERTIFICATE_PEM_MAX_LENGTH,
          description: 'PEM: the certificate and its PKCS#8 private key.',
        },
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
            method: {
              type: 'string',
              enum: ['client_secret', 'private_key_jwt', 'none'],
              description:
                '`none`: a public client (no secret) that may only use the device-code flow for delegated profiles; tenantId required.',
            },
            jwks: { ...ref('Jwks'), description: 'Required with private_key_jwt.' },
          },
        },
      },
    },
  };
}
