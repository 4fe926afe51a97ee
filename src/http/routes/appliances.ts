/**
 * The routes PBX appliances call (SPEC.md "Appliances"): the token endpoint, its Microsoft-shaped alias and
 * the RFC 8414 metadata (functions/token.ts), and the "Authorize" button (functions/appliance-onboardings.ts).
 * @module
 */
import { applianceProblems, noStore, oauthError, ok, tokenHeaders } from '../openapi/answers.js';
import { headerRef, json, problemJson } from '../openapi/components.js';
import { ref } from '../openapi/schemas.js';
import type { RequestBody, Response } from '../openapi/types.js';
import { family, type RouteSpec } from './types.js';

const tokenRequestBody: RequestBody = {
  required: true,
  content: {
    'application/x-www-form-urlencoded': {
      schema: ref('TokenRequest'),
      examples: {
        clientSecretBasic: {
          summary: 'client_secret_basic (credentials in the Authorization header)',
          value: { grant_type: 'client_credentials', scope: 'https://outlook.office365.com/.default' },
        },
        clientSecretPost: {
          summary: 'client_secret_post',
          value: {
            grant_type: 'client_credentials',
            scope: 'https://graph.microsoft.com/.default',
            client_id: '6f1c1b52-0000-4000-8000-000000000001',
            client_secret: '…',
          },
        },
        privateKeyJwt: {
          summary: 'private_key_jwt (RFC 7523)',
          value: {
            grant_type: 'client_credentials',
            scope: 'https://outlook.office365.com/.default',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: 'eyJ…',
          },
        },
      },
    },
  },
};

const tokenResponses: Readonly<Record<string, Response>> = {
  '200': {
    description:
      "The Microsoft access token for the appliance's bound tenant (RFC 6749 §5.1); for a self-enrolling device's poll (an enrollment `device_code`, no client authentication), its own credential once (EnrolledClient).",
    headers: tokenHeaders,
    content: json({ oneOf: [ref('TokenResponse'), ref('EnrolledClient')] }),
  },
  '400': oauthError(
    '`invalid_request`, `invalid_grant` (no consent, consent revoked or still being verified, offboarded; the description names the cause), `unauthorized_client` (e.g. the path names another tenant), `unsupported_grant_type`, `invalid_scope`.',
  ),
  '401': oauthError('`invalid_client`; with WWW-Authenticate when HTTP Basic was tried (RFC 6749 §5.2).', {
    'WWW-Authenticate': headerRef('BasicChallenge'),
  }),
  '429': oauthError(
    '`temporarily_unavailable`: too many failed client authentications from this client or address.',
    { 'Retry-After': headerRef('RetryAfter') },
  ),
  '500': oauthError('`server_error`: nothing about internals.'),
  '503': oauthError(
    "`temporarily_unavailable`: Microsoft Entra ID or the broker's storage is unreachable and no valid token is cached.",
    { 'Retry-After': headerRef('RetryAfter') },
  ),
};

const tokenRoute = (route: string, summary: string, description: string): RouteSpec => ({
  method: 'POST',
  route,
  access: 'appliance',
  summary,
  description,
  requestBody: tokenRequestBody,
  responses: tokenResponses,
});

const openIdConfiguration = (route: string, summary: string): RouteSpec => ({
  method: 'GET',
  route,
  access: 'anonymous',
  summary,
  description:
    "For firmware and OpenID clients (MSAL with the broker's host as authority and in `knownAuthorities`) written against `https://login.microsoftonline.com/{tenant}/…`: the broker's own endpoints for that tenant. `{tenant}` as at the token endpoint: a tenant id, one of its verified domains, or `organizations`. A tenant the broker does not serve gets 400 `invalid_tenant` (AADSTS90002), as Entra answers for a tenant it does not know.",
  responses: {
    '200': {
      description: 'The metadata.',
      headers: { 'Cache-Control': { schema: { const: 'private, max-age=3600' } } },
      content: json(ref('OpenIdConfiguration')),
    },
    '400': oauthError('`invalid_tenant`: no tenant this broker serves goes by that name.'),
    '503': oauthError('`temporarily_unavailable`: the broker cannot read its tenants right now.', {
      'Retry-After': headerRef('RetryAfter'),
    }),
  },
});

const authorizeRoute = (route: string): RouteSpec => ({
  method: 'GET',
  route,
  access: 'anonymous',
  summary: 'No sign-in here: the OpenID metadata names it only because clients require the field',
  responses: {
    '400': oauthError(
      '`unsupported_response_type`: the broker issues tokens to appliances by the client credentials grant only.',
    ),
  },
});

export const tokenRoutes = family('appliances', {
  token: tokenRoute(
    'oauth2/token',
    'Token endpoint (client credentials)',
    "RFC 6749 §4.4 client-credentials grant: a Microsoft access token for the appliance's own bound tenant, served from cache until near its expiry.",
  ),
  tokenMicrosoftPath: tokenRoute(
    '{tenant}/oauth2/v2.0/token',
    'Token endpoint under Microsoft’s path shape',
    'The same endpoint as `/oauth2/token`, so firmware written for `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` works by changing only the host.',
  ),
  tokenV1: {
    ...tokenRoute(
      '{tenant}/oauth2/token',
      'Token endpoint under Microsoft’s v1 path shape',
      "Entra's v1 endpoint shape: `resource=` instead of `scope=`, answered as Entra's v1 endpoint answers (numbers as strings, `resource`, `expires_on`), for firmware written against `https://login.microsoftonline.com/{tenant}/oauth2/token`.",
    ),
    requestBody: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: ref('TokenRequestV1'),
          examples: {
            clientSecretBasic: {
              summary: 'client_secret_basic, IMAP/POP/SMTP/EWS',
              value: { grant_type: 'client_credentials', resource: 'https://outlook.office365.com' },
            },
          },
        },
      },
    },
    responses: {
      ...tokenResponses,
      '200': {
        description: "The Microsoft access token for the appliance's bound tenant, in the v1 answer's shape.",
        headers: tokenHeaders,
        content: json(ref('TokenResponseV1')),
      },
    },
  },
  openIdConfiguration: openIdConfiguration(
    '{tenant}/v2.0/.well-known/openid-configuration',
    'OpenID configuration of a tenant, as Entra’s v2 metadata',
  ),
  openIdConfigurationV1: openIdConfiguration(
    '{tenant}/.well-known/openid-configuration',
    'OpenID configuration of a tenant, as Entra’s v1 metadata',
  ),
  authorize: authorizeRoute('{tenant}/oauth2/v2.0/authorize'),
  authorizeV1: authorizeRoute('{tenant}/oauth2/authorize'),
  deviceAuthorization: {
    method: 'POST',
    route: '{tenant}/oauth2/v2.0/devicecode',
    access: 'appliance',
    summary: 'Device authorization (device-code flow) for a mailbox grant',
    description:
      "RFC 8628 §3.1 under Entra's path shape: a pending mailbox grant of the appliance's tenant for the delegated profiles whose scopes are asked, and the codes to show the user, who opens `verification_uri` (`/device`), enters the code and signs in at Microsoft. `{tenant}`: the appliance's tenant id, `organizations` or `common`.",
    requestBody: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: ref('DeviceAuthorizationRequest') } },
    },
    responses: {
      '200': {
        description: 'The codes (RFC 8628 §3.2).',
        headers: tokenHeaders,
        content: json(ref('DeviceAuthorizationResponse')),
      },
      '400': oauthError(
        "`invalid_request`, `invalid_scope` (no delegated scope of the appliance), `invalid_grant` (the tenant's consent is not in place), `unauthorized_client` (the path names another tenant).",
      ),
      '401': oauthError('`invalid_client`: not a public client, and no valid client authentication.'),
      '503': oauthError("`temporarily_unavailable`: the broker's storage is unreachable.", {
        'Retry-After': headerRef('RetryAfter'),
      }),
    },
  },
  enroll: {
    method: 'POST',
    route: 'appliance/enroll',
    access: 'anonymous',
    summary: 'Zero-touch enrollment: a device without a credential asks to be enrolled',
    description:
      "RFC 8628 §3.1-shaped: the codes to show the customer's administrator, who opens `verification_uri` (`/enroll`), enters the code, consents at Microsoft if the organization has not, signs in and confirms the device; the device then polls the token endpoint with the device-code grant and receives its own credential once. Counted per address (10 per 5 minutes); turned off or limited to onboarded tenants by BROKER_ENROLLMENT. Audited.",
    requestBody: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: ref('EnrollmentRequest') } },
    },
    responses: {
      '200': {
        description: 'The codes (RFC 8628 §3.2).',
        headers: tokenHeaders,
        content: json(ref('EnrollmentResponse')),
      },
      '400': oauthError(
        '`invalid_request` (an unknown parameter, bad `jwks` or `customer_ref`, a credential), `invalid_scope` (unknown or ended profiles).',
      ),
      '403': oauthError('`access_denied`: enrollment is turned off (BROKER_ENROLLMENT=off).'),
      '429': oauthError('`slow_down`: too many enrollments from this address.', {
        'Retry-After': headerRef('RetryAfter'),
      }),
      '503': oauthError("`temporarily_unavailable`: the broker's storage is unreachable.", {
        'Retry-After': headerRef('RetryAfter'),
      }),
    },
  },
  authorizationServerMetadata: {
    method: 'GET',
    route: '.well-known/oauth-authorization-server',
    access: 'anonymous',
    summary: 'RFC 8414 authorization server metadata',
    responses: {
      '200': {
        description: 'The metadata, built from the configuration.',
        headers: { 'Cache-Control': { schema: { const: 'public, max-age=3600' } } },
        content: json(ref('AuthorizationServerMetadata')),
      },
    },
  },
});

export const applianceOnboardingRoutes = family('appliances', {
  createApplianceOnboarding: {
    method: 'POST',
    route: 'appliance/onboardings',
    access: 'appliance',
    summary: 'The PBX’s "Authorize" button: an onboarding bound to the calling appliance',
    description:
      'Authenticated as at the token endpoint. The body may be empty (HTTP Basic) or carry client_secret_post / private_key_jwt parameters.',
    requestBody: {
      required: false,
      content: { 'application/x-www-form-urlencoded': { schema: ref('ClientAuthenticationForm') } },
    },
    responses: {
      '201': {
        description: 'Created; open `consentUrl` in the customer admin’s browser and poll the onboarding.',
        headers: { ...noStore, Location: headerRef('Location') },
        content: json(ref('ApplianceOnboardingCreated')),
      },
      ...applianceProblems,
    },
  },
  getApplianceOnboarding: {
    method: 'GET',
    route: 'appliance/onboardings/{id}',
    access: 'appliance',
    summary: 'Poll an onboarding of this appliance',
    description:
      "Once `consented`, the tenant id and granted roles, so the PBX fills them in by itself. Another appliance's onboarding is answered like a missing one (404).",
    responses: {
      '200': ok('The onboarding.', 'ApplianceOnboarding'),
      ...applianceProblems,
      '404': {
        description: 'No such onboarding for this appliance.',
        headers: noStore,
        content: problemJson,
      },
    },
  },
});

/** An appliance's own mailbox grants (README "Delegated mailboxes"), registered by functions/mailbox-grants.ts. */
export const applianceGrantRoutes = family('appliances', {
  createApplianceMailboxGrant: {
    method: 'POST',
    route: 'appliance/mailbox-grants',
    access: 'appliance',
    summary: 'A link for a mailbox’s user, asked for by the appliance itself',
    description:
      'Authenticated as at the token endpoint (the credential in the Authorization header), for the appliance’s bound tenant: as `POST /api/tenants/{tenantId}/mailbox-grants` for this appliance. Audited.',
    requestBody: { required: true, content: json(ref('ApplianceMailboxGrantRequest')) },
    responses: {
      '201': {
        description: 'Created; open `consentUrl` in the mailbox user’s browser, then read the grant.',
        headers: { ...noStore, Location: headerRef('Location') },
        content: json(ref('MailboxGrantCreated')),
      },
      ...applianceProblems,
      '404': {
        description: 'The appliance is not bound to a tenant.',
        headers: noStore,
        content: problemJson,
      },
      '409': { description: 'The tenant’s consent is not in place.', headers: noStore, content: problemJson },
    },
  },
  listApplianceMailboxGrants: {
    method: 'GET',
    route: 'appliance/mailbox-grants',
    access: 'appliance',
    summary: 'The mailbox grants of this appliance',
    description: 'Authenticated as at the token endpoint; at most 100, in id order.',
    responses: { '200': ok('The grants.', 'ApplianceMailboxGrantList'), ...applianceProblems },
  },
  getApplianceMailboxGrant: {
    method: 'GET',
    route: 'appliance/mailbox-grants/{grantId}',
    access: 'appliance',
    summary: 'A mailbox grant of this appliance, with its handle until first use',
    description:
      "Once `active`, `refresh_token` is the broker's handle for it (never Microsoft's refresh token): present it with `grant_type=refresh_token` at the token endpoint. It is shown until its first use there, never after. Another appliance's grant is answered like a missing one (404).",
    responses: {
      '200': ok('The grant.', 'ApplianceMailboxGrant'),
      ...applianceProblems,
      '404': { description: 'No such grant for this appliance.', headers: noStore, content: problemJson },
    },
  },
});
