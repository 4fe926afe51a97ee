/**
 * The support console (issue 22): HTML pages for vendor staff, registered by functions/console.ts, behaviour in
 * src/http/console-endpoints.ts. Anonymous at the edge: each page checks its own session (a cookie set after
 * the staff member's Entra sign-in, src/console/), and sends a browser without one to the sign-in.
 * @module
 */
import { page, queryParam, redirect } from '../openapi/answers.js';
import { family } from './types.js';

const signIn = redirect('No console session: to `/console/signin`.');

export const consoleRoutes = family('console', {
  consoleOverview: {
    method: 'GET',
    route: 'console',
    access: 'anonymous',
    summary: 'Support console: overview',
    description:
      'Tenants by status, the tenants needing attention (revoked, degraded, error, pending for long), appliances seen in the last hour and day. Needs a console session with Broker.Read or Broker.Admin.',
    responses: { '200': page('The overview.'), '302': signIn },
  },
  consoleSignIn: {
    method: 'GET',
    route: 'console/signin',
    access: 'anonymous',
    summary: 'Support console: sign in with Entra ID',
    description:
      "Redirects to the vendor tenant's `/{VENDOR_TENANT_ID}/oauth2/v2.0/authorize` (authorization code with PKCE and a nonce, the home app, `redirect_uri` = `{BROKER_PUBLIC_URL}/console/callback`) with a fresh single-use `state` bound to this browser.",
    responses: { '302': redirect("To Entra ID's authorize endpoint of the vendor tenant.") },
  },
  consoleCallback: {
    method: 'GET',
    route: 'console/callback',
    access: 'anonymous',
    summary: 'Support console: return from the sign-in',
    description:
      'Checks `state` and the ID token: the vendor tenant, and the app role Broker.Read or Broker.Admin. Opens a session (cookie; idle limit 30 minutes, absolute 8 hours).',
    query: [
      queryParam('state', 'The state of the sign-in request.', { type: 'string' }),
      queryParam('code', 'The authorization code.', { type: 'string', maxLength: 4096 }),
      queryParam('error', 'An OAuth error from Entra ID.', { type: 'string' }),
      queryParam('error_description', 'Its description.', { type: 'string' }),
    ],
    responses: {
      '302': redirect('Signed in: to `/console`.'),
      '400': page(
        'The state is unknown, expired, used or of another browser, or Entra ID refused the sign-in.',
      ),
      '403': page('An account of another tenant, or without Broker.Read or Broker.Admin. Audited.'),
    },
  },
  consoleSignOut: {
    method: 'POST',
    route: 'console/signout',
    access: 'anonymous',
    summary: 'Support console: sign out',
    description: "Ends the session everywhere. The form carries the session's CSRF token.",
    responses: {
      '200': page('Signed out.'),
      '302': signIn,
      '403': page('The form did not come from a page of this session (CSRF token or Origin).'),
    },
  },
  consoleTenants: {
    method: 'GET',
    route: 'console/tenants',
    access: 'anonymous',
    summary: 'Support console: tenants',
    description:
      'Search by customer reference, domain or tenant id (an id opens its page); filter by status and profile; 50 a page.',
    query: [
      queryParam('q', 'A customer reference, a domain (or an address in it), or a tenant id.', {
        type: 'string',
        maxLength: 256,
      }),
      queryParam('status', 'A tenant status.', { type: 'string' }),
      queryParam('profile', 'A profile name.', { type: 'string' }),
      queryParam('page', 'The next page, as the previous page links it.', { type: 'string' }),
    ],
    responses: {
      '200': page('The tenants found.'),
      '302': redirect('A tenant id: to its page; no console session: to `/console/signin`.'),
      '400': page('An unknown status or profile, or a page link no longer valid.'),
    },
  },
  consoleTenant: {
    method: 'GET',
    route: 'console/tenants/{tenantId}',
    access: 'anonymous',
    summary: 'Support console: one tenant',
    description:
      'Its record in words (status and reason, who consented when, granted and missing roles, its own app credential), its appliances, mailbox grants and audit timeline.',
    responses: { '200': page('The tenant.'), '302': signIn, '404': page('No such tenant.') },
  },
  consoleCheck: {
    method: 'POST',
    route: 'console/tenants/{tenantId}/check',
    access: 'anonymous',
    summary: 'Support console: run a check',
    description:
      'The checks of `POST /api/tenants/{tenantId}/check` (optional mailboxes), shown with their remediation and a copy button for the PowerShell. Broker.Read; a consent link in the remediations for Broker.Admin. Form with the CSRF token.',
    responses: {
      '200': page('The results.'),
      '302': signIn,
      '400': page('An invalid mailbox address.'),
      '403': page('CSRF token or Origin.'),
      '404': page('No such tenant.'),
    },
  },
  consoleExchangeSetup: {
    method: 'GET',
    route: 'console/tenants/{tenantId}/exchange-setup.ps1',
    access: 'anonymous',
    summary: 'Support console: download exchange-setup.ps1',
    description:
      'The script of `GET /api/tenants/{tenantId}/exchange-setup.ps1`, as a download. Broker.Read.',
    query: [
      queryParam('mailboxes', 'Comma-separated mailbox addresses.', { type: 'string', maxLength: 4000 }),
    ],
    responses: {
      '200': {
        description: 'The script (`Content-Disposition: attachment`).',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      '302': signIn,
      '400': page('An invalid mailbox address.'),
      '404': page('No such tenant.'),
      '409': page(
        'Nothing to register: the tenant is revoked or offboarded, or has no enterprise application.',
      ),
    },
  },
  consoleCreateOnboarding: {
    method: 'POST',
    route: 'console/tenants/{tenantId}/onboardings',
    access: 'anonymous',
    summary: 'Support console: create a consent link',
    description:
      "For the tenant's profiles, as `POST /api/onboardings`. Broker.Admin. Form with the CSRF token.",
    responses: {
      '200': page('The consent link, with a copy button.'),
      '302': signIn,
      '400': page('An invalid customer reference.'),
      '403': page('Broker.Read only, or CSRF token or Origin.'),
      '404': page('No such tenant.'),
    },
  },
  consoleRegisterAppliance: {
    method: 'POST',
    route: 'console/tenants/{tenantId}/appliances',
    access: 'anonymous',
    summary: 'Support console: register an appliance',
    description:
      'As `POST /api/appliances` with the tenant and a client secret, shown once. Broker.Admin. Form with the CSRF token.',
    responses: {
      '200': page('The client id and secret, shown once.'),
      '302': signIn,
      '400': page('No or unknown profiles, or profiles split across bundles.'),
      '403': page('Broker.Read only, or CSRF token or Origin.'),
      '404': page('No such tenant.'),
    },
  },
  consoleRotateSecret: {
    method: 'POST',
    route: 'console/appliances/{clientId}/secret',
    access: 'anonymous',
    summary: "Support console: rotate an appliance's secret",
    description: 'As `POST /api/appliances/{clientId}/secret`; the new secret shown once. Broker.Admin.',
    responses: {
      '200': page('The new secret, shown once.'),
      '302': signIn,
      '400': page('Not a client-secret appliance.'),
      '403': page('Broker.Read only, or CSRF token or Origin.'),
      '404': page('No such appliance.'),
    },
  },
  consoleRevokeAppliance: {
    method: 'POST',
    route: 'console/appliances/{clientId}/revoke',
    access: 'anonymous',
    summary: 'Support console: revoke an appliance',
    description: 'As `DELETE /api/appliances/{clientId}`. Broker.Admin.',
    responses: {
      '200': page('Revoked.'),
      '302': signIn,
      '403': page('Broker.Read only, or CSRF token or Origin.'),
      '404': page('No such appliance.'),
    },
  },
  consoleOffboard: {
    method: 'POST',
    route: 'console/tenants/{tenantId}/offboard',
    access: 'anonymous',
    summary: 'Support console: offboard a tenant',
    description:
      'As `DELETE /api/tenants/{tenantId}`, confirmed by typing the tenant id. Broker.Admin. Form with the CSRF token.',
    responses: {
      '200': page('Offboarded.'),
      '302': signIn,
      '400': page('The confirmation does not name the tenant.'),
      '403': page('Broker.Read only, or CSRF token or Origin.'),
      '404': page('No such tenant.'),
      '409': page('Already offboarded.'),
    },
  },
  consoleWebhooks: {
    method: 'GET',
    route: 'console/webhooks',
    access: 'anonymous',
    summary: 'Support console: webhooks and their delivery log',
    description: 'Each endpoint (a disabled one shown as such) and its newest deliveries. Broker.Read.',
    responses: { '200': page('The endpoints.'), '302': signIn },
  },
});
