/**
 * Every route of SPEC.md "HTTP surface" as OpenAPI path items. Routes are served at the root (host.json
 * `routePrefix: ""`), so a path here is the `app.http` route with a leading slash. `operationId` is the
 * `app.http` function name (they show up in logs). Routes that issue 6 added say so in their description.
 * @module
 */
import { headerRef, html, json, parameterRef, problemJson, responseRef } from './components.js';
import { ref } from './schemas.js';
import type { Operation, Parameter, PathItem, Reference, Response, SecurityRequirement } from './types.js';

const ISSUE_6 = 'Added by issue 6 ("Vendor support").';

const read: readonly SecurityRequirement[] = [{ staff: ['Broker.Read'] }];
const admin: readonly SecurityRequirement[] = [{ staff: ['Broker.Admin'] }];
const anonymous: readonly SecurityRequirement[] = [];
/** HTTP Basic, or (the empty requirement) credentials in the form body: client_secret_post, private_key_jwt. */
const applianceForm: readonly SecurityRequirement[] = [{ clientSecretBasic: [] }, {}];

const noStore = { 'Cache-Control': headerRef('CacheControlNoStore') };

const ok = (
  description: string,
  schemaName: string,
  headers: Readonly<Record<string, Reference>> = {},
): Response => ({
  description,
  headers: { ...noStore, ...headers },
  content: json(ref(schemaName)),
});

/** Answers every support route can give, besides its own. */
const supportErrors = (extra: Readonly<Record<string, Response | Reference>> = {}) => ({
  '400': responseRef('BadRequest'),
  '401': responseRef('Unauthorized'),
  '403': responseRef('Forbidden'),
  ...extra,
  '500': responseRef('ServerError'),
  '503': responseRef('ServiceUnavailable'),
});
const jsonBodyErrors = {
  '413': responseRef('ContentTooLarge'),
  '415': responseRef('UnsupportedMediaType'),
};

const support = (
  op: Omit<Operation, 'tags' | 'responses'> & { readonly responses: Operation['responses'] },
): Operation => ({ tags: ['support'], ...op });

const queryParam = (name: string, description: string, schema: Parameter['schema']): Parameter => ({
  name,
  in: 'query',
  description,
  schema,
});

// ------------------------------------------------------------------------------------------- customers

const page = (description: string): Response => ({
  description,
  headers: {
    'Cache-Control': headerRef('CacheControlNoStore'),
    'Content-Security-Policy': headerRef('ContentSecurityPolicy'),
    'Referrer-Policy': headerRef('ReferrerPolicy'),
  },
  content: html,
});

const redirect = (description: string): Response => ({
  description,
  headers: {
    Location: {
      description: 'Where the browser goes next.',
      required: true,
      schema: { type: 'string', format: 'uri' },
    },
    'Cache-Control': headerRef('CacheControlNoStore'),
    'Referrer-Policy': headerRef('ReferrerPolicy'),
  },
});

const codeParam: Parameter = {
  name: 'code',
  in: 'path',
  required: true,
  description: 'The consent code of the onboarding, from its consent link.',
  schema: { type: 'string' },
};

const linkErrors = {
  '404': page('Unknown consent link.'),
  '410': page('The consent link has expired, or was already used.'),
  '500': responseRef('PageServerError'),
  '503': responseRef('PageUnavailable'),
};

const stateErrors = {
  '400': page(
    'Bad or unknown `state`, a state that timed out (`BROKER_STATE_TTL_S`), malformed or repeated parameters, or Microsoft answered with an error (its AADSTS code shown for support). Nothing is recorded.',
  ),
  '409': page('This `state` was already used: the response counts only once.'),
  '500': responseRef('PageServerError'),
  '503': responseRef('PageUnavailable'),
};

const entraErrorParams: Parameter[] = [
  queryParam('error', 'Set by Microsoft instead of a result.', { type: 'string' }),
  queryParam('error_description', 'Carries the AADSTS code.', { type: 'string' }),
  queryParam('error_subcode', 'From Microsoft.', { type: 'string' }),
  queryParam('error_uri', 'From Microsoft.', { type: 'string' }),
];

const customers: Record<string, PathItem> = {
  '/connect/{code}': {
    get: {
      operationId: 'connectLanding',
      tags: ['customers'],
      summary: 'Consent landing page',
      description:
        'What will be granted in plain words, who in the tenant can approve it, and a "Continue to Microsoft" link.',
      parameters: [codeParam],
      security: anonymous,
      responses: { '200': page('The landing page.'), ...linkErrors },
    },
  },
  '/connect/{code}/go': {
    get: {
      operationId: 'connectGo',
      tags: ['customers'],
      summary: "Go to Microsoft's admin consent",
      description:
        "Redirects to Entra ID's admin-consent endpoint for the home app with a fresh single-use `state` (lifetime `BROKER_STATE_TTL_S`) and `redirect_uri` = `{BROKER_PUBLIC_URL}/consent/callback`.",
      parameters: [codeParam],
      security: anonymous,
      responses: {
        '302': redirect('To `{ENTRA_AUTHORITY_HOST}/organizations/v2.0/adminconsent?…`.'),
        ...linkErrors,
      },
    },
  },
  '/consent/callback': {
    get: {
      operationId: 'consentCallback',
      tags: ['customers'],
      summary: 'Return from admin consent',
      description:
        'Checks `state`; the `tenant` parameter is not trusted: the admin is signed in with OpenID Connect next (authorization code with PKCE and a nonce) at that tenant, normally silently.',
      parameters: [
        queryParam('state', 'The state issued at /connect/{code}/go.', { type: 'string' }),
        queryParam('tenant', 'The tenant Microsoft names (not trusted).', { type: 'string' }),
        queryParam('admin_consent', '`True` when consent was granted.', { type: 'string' }),
        queryParam('scope', 'From Microsoft.', { type: 'string' }),
        ...entraErrorParams,
      ],
      security: anonymous,
      responses: {
        '302': redirect(
          "To the tenant's `/{tenant}/oauth2/v2.0/authorize` endpoint (scope `openid profile`, `redirect_uri` = `{BROKER_PUBLIC_URL}/consent/signin`).",
        ),
        ...stateErrors,
        '403': page('The consent was declined at Microsoft (AADSTS65004). Nothing is recorded.'),
      },
    },
  },
  '/consent/signin': {
    get: {
      operationId: 'consentSignin',
      tags: ['customers'],
      summary: 'Return from the admin sign-in; records the consent',
      description:
        'Goes on only when the ID token is valid, its `tid` is the tenant, and the user is a member holding a role that can grant tenant-wide admin consent. The consent is then proven with an app-only token and recorded; a consent that cannot be proven yet is kept as `pending_verification` and re-checked in the background.',
      parameters: [
        queryParam('state', 'The state of the sign-in request.', { type: 'string' }),
        queryParam('code', 'The authorization code.', { type: 'string', maxLength: 4096 }),
        queryParam('session_state', 'From Microsoft; ignored.', { type: 'string' }),
        queryParam('client_info', 'From Microsoft; ignored.', { type: 'string' }),
        ...entraErrorParams,
      ],
      security: anonymous,
      responses: {
        '200': page(
          'The result: connected; connected with missing permissions and how to fix them; or received and being verified.',
        ),
        '302': redirect('The silent sign-in needs the admin: to an interactive sign-in at Microsoft.'),
        ...stateErrors,
        '403': page(
          'The account is not an admin who can grant tenant-wide consent, is a guest or of another tenant, or signed in to another tenant. Nothing is recorded; the attempt is audited.',
        ),
      },
    },
  },
  '/consent/confirm': {
    post: {
      operationId: 'consentConfirm',
      tags: ['customers'],
      summary: 'The admin confirms the appliance a consent binds',
      description:
        "Posted by the page `/consent/signin` shows when the onboarding is tied to an appliance: it names the appliance and the customer reference it was registered with. The form's `state` is single-use and accepted only from the browser that signed in (its consent cookie); a foreign `Origin` is refused. Only then is the appliance bound to the tenant (or, while the consent is still being proven, once it is).",
      security: anonymous,
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              required: ['state'],
              properties: {
                state: { type: 'string', description: 'The state the confirmation page carries.' },
              },
            },
          },
        },
      },
      responses: {
        '200': page('The result: connected, connected with missing permissions, or being verified.'),
        ...stateErrors,
      },
    },
  },
  '/assets/broker.css': {
    get: {
      operationId: 'assetsBrokerCss',
      tags: ['customers'],
      summary: "The pages' stylesheet",
      security: anonymous,
      responses: {
        '200': {
          description:
            'The stylesheet; its URL in the pages carries a content hash, so it is cached for a year.',
          headers: {
            'Cache-Control': { schema: { const: 'public, max-age=31536000, immutable' } },
          },
          content: { 'text/css': { schema: { type: 'string' } } },
        },
      },
    },
  },
};

// ------------------------------------------------------------------------------------------ appliances

const tokenErrorHeaders = {
  'Cache-Control': headerRef('CacheControlNoStore'),
  Pragma: headerRef('Pragma'),
};
const oauthError = (description: string, extra: Readonly<Record<string, Reference>> = {}): Response => ({
  description,
  headers: { ...tokenErrorHeaders, ...extra },
  content: json(ref('OAuthError')),
});

function tokenOperation(
  operationId: string,
  summary: string,
  description: string,
  extra: Parameter[] = [],
): Operation {
  return {
    operationId,
    tags: ['appliances'],
    summary,
    description,
    parameters: extra,
    security: applianceForm,
    requestBody: {
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
    },
    responses: {
      '200': {
        description: "The Microsoft access token for the appliance's bound tenant (RFC 6749 §5.1).",
        headers: tokenErrorHeaders,
        content: json(ref('TokenResponse')),
      },
      '400': oauthError(
        '`invalid_request`, `invalid_grant` (no consent, consent revoked or still being verified, offboarded; the description names the cause), `unauthorized_client` (e.g. the path names another tenant), `unsupported_grant_type`, `invalid_scope`.',
      ),
      '401': oauthError(
        '`invalid_client`; with WWW-Authenticate when HTTP Basic was tried (RFC 6749 §5.2).',
        {
          'WWW-Authenticate': headerRef('BasicChallenge'),
        },
      ),
      '429': oauthError(
        '`temporarily_unavailable`: too many failed client authentications from this client or address.',
        {
          'Retry-After': headerRef('RetryAfter'),
        },
      ),
      '500': oauthError('`server_error`: nothing about internals.'),
      '503': oauthError(
        "`temporarily_unavailable`: Microsoft Entra ID or the broker's storage is unreachable and no valid token is cached.",
        { 'Retry-After': headerRef('RetryAfter') },
      ),
    },
  };
}

const applianceProblems = {
  '400': {
    description: 'Bad request or client authentication input (the body carries the OAuth `error` code).',
    headers: noStore,
    content: problemJson,
  },
  '401': responseRef('ApplianceUnauthorized'),
  '500': responseRef('ServerError'),
  '503': responseRef('ServiceUnavailable'),
};

const appliances: Record<string, PathItem> = {
  '/oauth2/token': {
    post: tokenOperation(
      'token',
      'Token endpoint (client credentials)',
      "RFC 6749 §4.4 client-credentials grant: a Microsoft access token for the appliance's own bound tenant, served from cache until near its expiry.",
    ),
  },
  '/{tenant}/oauth2/v2.0/token': {
    post: tokenOperation(
      'tokenMicrosoftPath',
      'Token endpoint under Microsoft’s path shape',
      'The same endpoint as `/oauth2/token`, so firmware written for `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` works by changing only the host.',
      [
        {
          name: 'tenant',
          in: 'path',
          required: true,
          description:
            "The appliance's bound tenant id, one of its verified domains, or `organizations`; another tenant is `unauthorized_client`.",
          schema: { type: 'string' },
        },
      ],
    ),
  },
  '/.well-known/oauth-authorization-server': {
    get: {
      operationId: 'authorizationServerMetadata',
      tags: ['appliances'],
      summary: 'RFC 8414 authorization server metadata',
      security: anonymous,
      responses: {
        '200': {
          description: 'The metadata, built from the configuration.',
          headers: { 'Cache-Control': { schema: { const: 'public, max-age=3600' } } },
          content: json(ref('AuthorizationServerMetadata')),
        },
      },
    },
  },
  '/appliance/onboardings': {
    post: {
      operationId: 'createApplianceOnboarding',
      tags: ['appliances'],
      summary: 'The PBX’s "Authorize" button: an onboarding bound to the calling appliance',
      description:
        'Authenticated as at the token endpoint. The body may be empty (HTTP Basic) or carry client_secret_post / private_key_jwt parameters.',
      security: applianceForm,
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
  },
  '/appliance/onboardings/{id}': {
    get: {
      operationId: 'getApplianceOnboarding',
      tags: ['appliances'],
      summary: 'Poll an onboarding of this appliance',
      description:
        "Once `consented`, the tenant id and granted roles, so the PBX fills them in by itself. Another appliance's onboarding is answered like a missing one (404).",
      parameters: [parameterRef('OnboardingId')],
      security: [{ clientSecretBasic: [] }, { applianceAssertion: [] }],
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
  },
};

// --------------------------------------------------------------------------------------------- support

const supportPaths: Record<string, PathItem> = {
  '/api/onboardings': {
    post: support({
      operationId: 'createOnboarding',
      summary: 'Create a consent link for a customer',
      security: admin,
      requestBody: { required: true, content: json(ref('OnboardingRequest')) },
      responses: {
        '201': ok('Created; `code` and `consentUrl` are shown only here.', 'OnboardingCreated', {
          Location: headerRef('Location'),
        }),
        ...supportErrors(jsonBodyErrors),
      },
    }),
  },
  '/api/onboardings/{id}': {
    get: support({
      operationId: 'getOnboarding',
      summary: 'An onboarding and its state',
      security: read,
      parameters: [parameterRef('OnboardingId')],
      responses: {
        '200': ok('The onboarding.', 'Onboarding'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
  },
  '/api/tenants': {
    get: support({
      operationId: 'listTenants',
      summary: 'List tenants',
      description: 'In tenant-id order, paged. Unknown query parameters are refused (400).',
      security: read,
      parameters: [
        queryParam('status', 'Only tenants in this status.', ref('TenantStatus')),
        queryParam('customerRef', 'Only tenants consented for this customer reference.', {
          type: 'string',
          minLength: 1,
          maxLength: 128,
        }),
        queryParam('domain', 'Only tenants with this verified domain.', { type: 'string', maxLength: 253 }),
        parameterRef('Top'),
        parameterRef('ContinuationToken'),
      ],
      responses: { '200': ok('A page of tenants.', 'TenantList'), ...supportErrors() },
    }),
  },
  '/api/tenants/{tenantId}': {
    parameters: [parameterRef('TenantId')],
    get: support({
      operationId: 'getTenant',
      summary: 'A tenant, with its appliances',
      security: read,
      responses: {
        '200': ok('The tenant.', 'TenantDetail'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
    delete: support({
      operationId: 'offboardTenant',
      summary: 'Offboard a tenant',
      description: `Revokes its appliances, deletes the secrets held for it, keeps the tenant as an \`offboarded\` tombstone and audits it; the tenant can be onboarded again later. Offboarding an offboarded tenant changes nothing. ${ISSUE_6}`,
      security: admin,
      responses: {
        '200': ok('The tombstone.', 'Tenant'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
  },
  '/api/tenants/{tenantId}/check': {
    parameters: [parameterRef('TenantId')],
    post: support({
      operationId: 'checkTenant',
      summary: 'Run live checks on a tenant',
      description: `A token per configured resource, granted roles against each profile, organization details, and optional mailbox probes through Graph; each check with \`ok\`, \`detail\` and a \`remediation\` an admin can follow. Finding the consent removed marks the tenant \`revoked\`; finding it granted again marks it \`active\`. Broker.Read is enough: a check records only what Microsoft already shows. Where a remediation needs a consent, a fresh consent link (an onboarding) is created only when the caller has Broker.Admin. Graph or Entra ID failing during a check makes that check fail; the others still run. The body may be empty. ${ISSUE_6}`,
      security: read,
      requestBody: { required: false, content: json(ref('TenantCheckRequest')) },
      responses: {
        '200': ok('The checks.', 'TenantCheckResult'),
        ...supportErrors({ '404': responseRef('NotFound'), ...jsonBodyErrors }),
      },
    }),
  },
  '/api/tenants/{tenantId}/exchange-setup.ps1': {
    parameters: [parameterRef('TenantId')],
    get: support({
      operationId: 'exchangeSetupScript',
      summary: 'The Exchange PowerShell for this tenant',
      description: `Registers the Exchange service principal with the enterprise app's object id, grants the mailbox permission and optionally scopes the app to the listed mailboxes, filled in with this tenant's values. An invalid address is refused (400), never echoed into the script. ${ISSUE_6}`,
      security: read,
      parameters: [
        {
          name: 'mailboxes',
          in: 'query',
          description: 'Comma-separated mailbox addresses (at most 100), e.g. `a@contoso.com,b@contoso.com`.',
          style: 'form',
          explode: false,
          schema: { type: 'array', maxItems: 100, items: { type: 'string', format: 'email' } },
        },
      ],
      responses: {
        '200': {
          description: 'The script, as a download.',
          headers: {
            ...noStore,
            'Content-Disposition': {
              description: '`attachment; filename="exchange-setup-{tenantId}.ps1"`.',
              required: true,
              schema: { type: 'string', pattern: '^attachment; filename="exchange-setup-[0-9a-f-]+\\.ps1"$' },
            },
          },
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        ...supportErrors({
          '404': responseRef('NotFound'),
          '409': {
            description:
              "The tenant is revoked or offboarded, or the vendor's enterprise application does not exist in it: it must consent again first.",
            headers: noStore,
            content: problemJson,
          },
        }),
      },
    }),
  },
  '/api/tenants/{tenantId}/app-credential': {
    parameters: [parameterRef('TenantId')],
    put: support({
      operationId: 'setTenantAppCredential',
      summary: "Use the customer's own app registration for this tenant",
      description: `"Bring your own app": the credential goes to Key Vault and is never returned; the broker proves at once what the app may do in the tenant (a tenant not recorded yet is created as \`pending_verification\`). The tenant then shows \`appCredential: {clientId, expiresOn}\`. ${ISSUE_6}`,
      security: admin,
      requestBody: { required: true, content: json(ref('AppCredentialRequest')) },
      responses: {
        '200': ok('Stored; the tenant as it now is.', 'Tenant'),
        ...supportErrors(jsonBodyErrors),
      },
    }),
    delete: support({
      operationId: 'removeTenantAppCredential',
      summary: 'Go back to the home app for this tenant',
      description: `Deletes the customer's credential from Key Vault; the home app's consent is proven again (\`revoked\` when it has none). ${ISSUE_6}`,
      security: admin,
      responses: {
        '200': ok('The tenant as it now is.', 'Tenant'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
  },
  '/api/appliances': {
    post: support({
      operationId: 'createAppliance',
      summary: 'Register an appliance',
      security: admin,
      requestBody: { required: true, content: json(ref('ApplianceRequest')) },
      responses: {
        '201': ok('Created; the client secret is shown only here.', 'ApplianceCreated', {
          Location: headerRef('Location'),
        }),
        ...supportErrors(jsonBodyErrors),
      },
    }),
    get: support({
      operationId: 'listAppliances',
      summary: 'List appliances',
      security: read,
      parameters: [
        queryParam('tenantId', 'Only appliances bound to this tenant.', {
          type: 'string',
          pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        }),
        parameterRef('Top'),
        parameterRef('ContinuationToken'),
      ],
      responses: { '200': ok('A page of appliances.', 'ApplianceList'), ...supportErrors() },
    }),
  },
  '/api/appliances/{clientId}': {
    parameters: [parameterRef('ClientId')],
    get: support({
      operationId: 'getAppliance',
      summary: 'An appliance',
      security: read,
      responses: {
        '200': ok('The appliance.', 'Appliance'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
    delete: support({
      operationId: 'revokeAppliance',
      summary: 'Revoke an appliance',
      description: 'Takes effect on every instance within 60 s at most.',
      security: admin,
      responses: {
        '204': { description: 'Revoked.', headers: noStore },
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
  },
  '/api/appliances/{clientId}/secret': {
    parameters: [parameterRef('ClientId')],
    post: support({
      operationId: 'rotateApplianceSecret',
      summary: "Rotate an appliance's client secret",
      security: admin,
      responses: {
        '200': ok('The new secret; the old one works until `previousSecretValidUntil`.', 'SecretRotated'),
        ...supportErrors({ '404': responseRef('NotFound') }),
      },
    }),
  },
  '/api/audit': {
    get: support({
      operationId: 'listAudit',
      summary: 'Who did what when',
      description:
        "Entries of one tenant, or without `tenantId` the broker's own (e.g. onboardings created), oldest first, paged.",
      security: read,
      parameters: [
        queryParam('tenantId', 'The tenant.', {
          type: 'string',
          pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        }),
        queryParam('since', 'RFC 3339 date-time, e.g. `2026-11-24T00:00:00Z`.', {
          type: 'string',
          format: 'date-time',
        }),
        queryParam('top', 'Page size.', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
        parameterRef('ContinuationToken'),
      ],
      responses: { '200': ok('A page of entries.', 'AuditList'), ...supportErrors() },
    }),
  },
};

// ------------------------------------------------------------------------------------------ operations

const operations: Record<string, PathItem> = {
  '/api/openapi.json': {
    get: {
      operationId: 'openApi',
      tags: ['operations'],
      summary: 'This document',
      description:
        'Anonymous, although SPEC.md lists it with the support API: it describes public contracts only (routes, shapes, how to authenticate) and holds no tenant data or secrets, and the RFC 8414 metadata links to it as `service_documentation`.',
      security: anonymous,
      responses: {
        '200': {
          description: 'OpenAPI 3.1.',
          headers: { 'Cache-Control': { schema: { const: 'public, max-age=300' } } },
          content: json({ type: 'object' }),
        },
      },
    },
  },
  '/api/health': {
    get: {
      operationId: 'health',
      tags: ['operations'],
      summary: 'Liveness and dependency state',
      description:
        '200 while the process is alive, even when a dependency is down (`status: "degraded"`), so that a platform health check does not recycle an instance for a dependency’s bad minute. No secrets, no tenant data.',
      security: anonymous,
      responses: { '200': ok('The report.', 'Health') },
    },
  },
};

export function paths(): Record<string, PathItem> {
  return { ...customers, ...appliances, ...supportPaths, ...operations };
}
