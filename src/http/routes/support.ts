/**
 * The support API's onboarding, tenant, audit and check routes (SPEC.md "Vendor support"), registered by
 * functions/onboardings.ts, functions/support-api.ts and functions/checks.ts behind `asStaff` with the
 * role each declares. Reading needs Broker.Read, changing Broker.Admin.
 * @module
 */
import { jsonBodyErrors, noStore, ok, queryParam, supportErrors } from '../openapi/answers.js';
import { headerRef, json, parameterRef, problemJson, responseRef } from '../openapi/components.js';
import { ref } from '../openapi/schemas.js';
import {
  CUSTOMER_REF_MAX_LENGTH,
  CUSTOMER_REF_PATTERN,
  DOMAIN_NAME_MAX_LENGTH,
  DOMAIN_NAME_PATTERN,
  GUID_PATTERN,
  PROFILE_NAME_PATTERN,
} from '../../ids.js';
import { EXCHANGE_SCOPINGS } from '../../support/exchange-setup.js';
import { MAX_SCRIPT_MAILBOXES } from '../../support/mailbox-address.js';
import { AUDIT_PAGE_SIZE } from './limits.js';
import { family } from './types.js';

export const onboardingRoutes = family('support', {
  createOnboarding: {
    method: 'POST',
    route: 'api/onboardings',
    access: 'Broker.Admin',
    summary: 'Create a consent link for a customer',
    requestBody: { required: true, content: json(ref('OnboardingRequest')) },
    responses: {
      '201': ok('Created; `code` and `consentUrl` are shown only here.', 'OnboardingCreated', {
        Location: headerRef('Location'),
      }),
      ...supportErrors(jsonBodyErrors),
    },
  },
  getOnboarding: {
    method: 'GET',
    route: 'api/onboardings/{id}',
    access: 'Broker.Read',
    summary: 'An onboarding and its state',
    responses: {
      '200': ok('The onboarding.', 'Onboarding'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
});

export const tenantRoutes = family('support', {
  listTenants: {
    method: 'GET',
    route: 'api/tenants',
    access: 'Broker.Read',
    summary: 'List tenants',
    description: 'In tenant-id order, paged. Unknown query parameters are refused (400).',
    query: [
      queryParam('status', 'Only tenants in this status.', ref('TenantStatus')),
      queryParam('customerRef', 'Only tenants consented for this customer reference.', {
        type: 'string',
        minLength: 1,
        maxLength: CUSTOMER_REF_MAX_LENGTH,
        pattern: CUSTOMER_REF_PATTERN,
      }),
      queryParam('domain', 'Only tenants with this verified domain.', {
        type: 'string',
        maxLength: DOMAIN_NAME_MAX_LENGTH,
        pattern: DOMAIN_NAME_PATTERN,
      }),
      queryParam(
        'profile',
        'Only those that use this profile (e.g. `exchange-ews`, to plan its end); a page may then hold fewer than `top`, follow `continuationToken`.',
        { type: 'string', pattern: PROFILE_NAME_PATTERN },
      ),
      parameterRef('Top'),
      parameterRef('ContinuationToken'),
    ],
    responses: { '200': ok('A page of tenants.', 'TenantList'), ...supportErrors() },
  },
  getTenant: {
    method: 'GET',
    route: 'api/tenants/{tenantId}',
    access: 'Broker.Read',
    summary: 'A tenant, with its appliances',
    responses: {
      '200': ok('The tenant.', 'TenantDetail'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  offboardTenant: {
    method: 'DELETE',
    route: 'api/tenants/{tenantId}',
    access: 'Broker.Admin',
    summary: 'Offboard a tenant',
    description: `Revokes its appliances, deletes the secrets held for it, keeps the tenant as an \`offboarded\` tombstone and audits it; the tenant can be onboarded again later. Offboarding an offboarded tenant runs it again: it completes an attempt that failed part-way and announces the changes to every instance once more.`,
    responses: {
      '200': ok('The tombstone.', 'Tenant'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  setTenantAppCredential: {
    method: 'PUT',
    route: 'api/tenants/{tenantId}/app-credential',
    access: 'Broker.Admin',
    summary: "Use the customer's own app registration for this tenant",
    description: `"Bring your own app": the credential goes to Key Vault and is never returned; the broker proves at once what the app may do in the tenant (a tenant not recorded yet is created as \`pending_verification\`). The tenant then shows \`appCredential: {clientId, expiresOn}\`.`,
    requestBody: { required: true, content: json(ref('AppCredentialRequest')) },
    responses: {
      '200': ok('Stored; the tenant as it now is.', 'Tenant'),
      ...supportErrors(jsonBodyErrors),
    },
  },
  removeTenantAppCredential: {
    method: 'DELETE',
    route: 'api/tenants/{tenantId}/app-credential',
    access: 'Broker.Admin',
    summary: 'Go back to the home app for this tenant',
    description: `Deletes the customer's credential from Key Vault; the home app's consent is proven again (\`revoked\` when it has none).`,
    responses: {
      '200': ok('The tenant as it now is.', 'Tenant'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  listAudit: {
    method: 'GET',
    route: 'api/audit',
    access: 'Broker.Read',
    summary: 'Who did what when',
    description:
      "Entries of one tenant, or without `tenantId` the broker's own (e.g. onboardings created), oldest first, paged.",
    query: [
      queryParam('tenantId', 'The tenant.', {
        type: 'string',
        pattern: GUID_PATTERN,
      }),
      queryParam('since', 'RFC 3339 date-time, e.g. `2026-11-24T00:00:00Z`.', {
        type: 'string',
        format: 'date-time',
      }),
      queryParam('top', 'Page size.', {
        type: 'integer',
        minimum: 1,
        maximum: AUDIT_PAGE_SIZE.max,
        default: AUDIT_PAGE_SIZE.default,
      }),
      parameterRef('ContinuationToken'),
    ],
    responses: { '200': ok('A page of entries.', 'AuditList'), ...supportErrors() },
  },
});

export const mailboxGrantRoutes = family('support', {
  createMailboxGrant: {
    method: 'POST',
    route: 'api/tenants/{tenantId}/mailbox-grants',
    access: 'Broker.Admin',
    summary: 'A link for a mailbox’s user to grant an appliance delegated access',
    description:
      'For an `active` or `degraded` tenant, one of its active appliances and delegated profiles that appliance is allowed; `mailbox`, when given, must be of a verified domain of the tenant. The user opens `consentUrl` and signs in at Microsoft; the broker keeps their refresh token and the appliance gets only access tokens. Audited.',
    requestBody: { required: true, content: json(ref('MailboxGrantRequest')) },
    responses: {
      '201': ok('Created; `consentUrl` is shown only here.', 'MailboxGrantCreated', {
        Location: headerRef('Location'),
      }),
      ...supportErrors({
        '404': responseRef('NotFound'),
        '409': { description: 'The tenant’s consent is not in place.', content: problemJson },
        ...jsonBodyErrors,
      }),
    },
  },
  listMailboxGrants: {
    method: 'GET',
    route: 'api/tenants/{tenantId}/mailbox-grants',
    access: 'Broker.Read',
    summary: 'A tenant’s mailbox grants',
    query: [parameterRef('Top'), parameterRef('ContinuationToken')],
    responses: { '200': ok('A page of grants.', 'MailboxGrantList'), ...supportErrors() },
  },
  getMailboxGrant: {
    method: 'GET',
    route: 'api/tenants/{tenantId}/mailbox-grants/{grantId}',
    access: 'Broker.Read',
    summary: 'A mailbox grant and its state',
    responses: {
      '200': ok('The grant.', 'MailboxGrant'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
  revokeMailboxGrant: {
    method: 'DELETE',
    route: 'api/tenants/{tenantId}/mailbox-grants/{grantId}',
    access: 'Broker.Admin',
    summary: 'Revoke a mailbox grant',
    description:
      'The grant becomes `revoked` for good and the refresh token it kept is erased; the appliance gets no more tokens with it. Audited. Revoking a revoked grant changes nothing.',
    responses: {
      '200': ok('The grant as it now is.', 'MailboxGrant'),
      ...supportErrors({ '404': responseRef('NotFound') }),
    },
  },
});

export const checkRoutes = family('support', {
  checkTenant: {
    method: 'POST',
    route: 'api/tenants/{tenantId}/check',
    // Broker.Read: a check records only what Microsoft already shows (src/http/checks-api.ts postTenantCheck).
    access: 'Broker.Read',
    summary: 'Run live checks on a tenant',
    description: `A token per configured resource, granted roles against each profile, organization details, and optional mailbox probes through Graph and, for a tenant with the \`exchange-ews\` profile, a live EWS request per mailbox (at most 3) that tells allowed, blocked by the tenant's EWS settings (EwsEnabled / EwsAllowedAppIDs; EWS ends in Exchange Online on 1 April 2027) and no mailbox access apart; each check with \`ok\`, \`detail\` and a \`remediation\` an admin can follow. Finding the consent removed marks the tenant \`revoked\`; finding it granted again marks it \`active\`. Broker.Read is enough: a check records only what Microsoft already shows. Where a remediation needs a consent, a fresh consent link (an onboarding) is created only when the caller has Broker.Admin. Graph or Entra ID failing during a check makes that check fail; the others still run. The body may be empty.`,
    requestBody: { required: false, content: json(ref('TenantCheckRequest')) },
    responses: {
      '200': ok('The checks.', 'TenantCheckResult'),
      ...supportErrors({ '404': responseRef('NotFound'), ...jsonBodyErrors }),
    },
  },
  exchangeSetupScript: {
    method: 'GET',
    route: 'api/tenants/{tenantId}/exchange-setup.ps1',
    access: 'Broker.Read',
    summary: 'The Exchange PowerShell for this tenant',
    description: `Registers the Exchange service principal with the enterprise app's object id, grants the mailbox permission, scopes the app's Graph / EWS permissions to the listed mailboxes (\`-Scoping\`) and, for EWS, adds the app to the tenant's EWS allow-list, filled in with this tenant's values. The administrator runs it with \`-AdminUpn\` (an interactive sign-in); running it again changes nothing. An invalid address is refused (400), never echoed into the script.`,
    query: [
      {
        name: 'mailboxes',
        in: 'query',
        description: `Comma-separated mailbox addresses (at most ${MAX_SCRIPT_MAILBOXES}), e.g. \`a@contoso.com,b@contoso.com\`.`,
        style: 'form',
        explode: false,
        schema: {
          type: 'array',
          maxItems: MAX_SCRIPT_MAILBOXES,
          items: { type: 'string', format: 'email' },
        },
      },
      queryParam(
        'scoping',
        "The script's default `-Scoping`: `rbac`, RBAC for Applications (Microsoft's recommendation, https://learn.microsoft.com/exchange/permissions-exo/application-rbac), or `accessPolicy`, an application access policy for a mail-enabled security group (`-PolicyGroup`).",
        { type: 'string', enum: [...EXCHANGE_SCOPINGS], default: 'rbac' },
      ),
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
  },
});
