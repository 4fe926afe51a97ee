/**
 * The customer admin's browser (SPEC.md "Customers"): the consent pages and redirects registered by
 * functions/connect.ts and the stylesheet of functions/assets.ts. All anonymous: the admin signs in only at
 * Microsoft.
 * @module
 */
import { entraErrorParams, linkErrors, page, queryParam, redirect, stateErrors } from '../openapi/answers.js';
import { family } from './types.js';

export const connectRoutes = family('customers', {
  connectLanding: {
    method: 'GET',
    route: 'connect/{code}',
    access: 'anonymous',
    summary: 'Consent landing page',
    description:
      'What will be granted in plain words, who in the tenant can approve it, and a "Continue to Microsoft" link.',
    responses: { '200': page('The landing page.'), ...linkErrors },
  },
  connectGo: {
    method: 'GET',
    route: 'connect/{code}/go',
    access: 'anonymous',
    summary: "Go to Microsoft's admin consent",
    description:
      "Redirects to Entra ID's admin-consent endpoint for the home app with a fresh single-use `state` (lifetime `BROKER_STATE_TTL_S`) and `redirect_uri` = `{BROKER_PUBLIC_URL}/consent/callback`.",
    responses: {
      '302': redirect('To `{ENTRA_AUTHORITY_HOST}/organizations/v2.0/adminconsent?…`.'),
      ...linkErrors,
    },
  },
  consentCallback: {
    method: 'GET',
    route: 'consent/callback',
    access: 'anonymous',
    summary: 'Return from admin consent',
    description:
      'Checks `state`; the `tenant` parameter is not trusted: the admin is signed in with OpenID Connect next (authorization code with PKCE and a nonce) at that tenant, normally silently.',
    query: [
      queryParam('state', 'The state issued at /connect/{code}/go.', { type: 'string' }),
      queryParam('tenant', 'The tenant Microsoft names (not trusted).', { type: 'string' }),
      queryParam('admin_consent', '`True` when consent was granted.', { type: 'string' }),
      queryParam('scope', 'From Microsoft.', { type: 'string' }),
      ...entraErrorParams,
    ],
    responses: {
      '302': redirect(
        "To the tenant's `/{tenant}/oauth2/v2.0/authorize` endpoint (scope `openid profile`, `redirect_uri` = `{BROKER_PUBLIC_URL}/consent/signin`).",
      ),
      ...stateErrors,
      '403': page('The consent was declined at Microsoft (AADSTS65004). Nothing is recorded.'),
    },
  },
  consentSignin: {
    method: 'GET',
    route: 'consent/signin',
    access: 'anonymous',
    summary: 'Return from the admin sign-in; records the consent',
    description:
      'Goes on only when the ID token is valid, its `tid` is the tenant, and the user is a member holding a role that can grant tenant-wide admin consent. The consent is then proven with an app-only token and recorded; a consent that cannot be proven yet is kept as `pending_verification` and re-checked in the background.',
    query: [
      queryParam('state', 'The state of the sign-in request.', { type: 'string' }),
      queryParam('code', 'The authorization code.', { type: 'string', maxLength: 4096 }),
      queryParam('session_state', 'From Microsoft; ignored.', { type: 'string' }),
      queryParam('client_info', 'From Microsoft; ignored.', { type: 'string' }),
      ...entraErrorParams,
    ],
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
  consentConfirm: {
    method: 'POST',
    route: 'consent/confirm',
    access: 'anonymous',
    summary: 'The admin confirms the appliance a consent binds',
    description:
      "Posted by the page `/consent/signin` shows when the onboarding is tied to an appliance: it names the appliance and the customer reference it was registered with. The form's `state` is single-use and accepted only from the browser that signed in (its consent cookie); a foreign `Origin` is refused. Only then is the appliance bound to the tenant (or, while the consent is still being proven, once it is).",
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
});

export const assetRoutes = family('customers', {
  assetsConsoleJs: {
    method: 'GET',
    route: 'assets/console.js',
    access: 'anonymous',
    summary: "The support console's script (copy buttons)",
    responses: {
      '200': {
        description:
          'The script; its URL in the console pages carries a content hash, so it is cached for a year.',
        headers: {
          'Cache-Control': { schema: { const: 'public, max-age=31536000, immutable' } },
        },
        content: { 'text/javascript': { schema: { type: 'string' } } },
      },
    },
  },
  assetsBrokerCss: {
    method: 'GET',
    route: 'assets/broker.css',
    access: 'anonymous',
    summary: "The pages' stylesheet",
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
});

/** A mailbox user's browser (README "Delegated mailboxes"), registered by functions/mailbox-grants.ts. Anonymous. */
export const grantRoutes = family('customers', {
  mailboxGrantLanding: {
    method: 'GET',
    route: 'mailbox-grants/{grantCode}',
    access: 'anonymous',
    summary: 'Mailbox grant landing page',
    description:
      'What the equipment will be able to do with the mailbox, in plain words, and a "Sign in at Microsoft" link.',
    responses: { '200': page('The landing page.'), ...linkErrors },
  },
  mailboxGrantGo: {
    method: 'GET',
    route: 'mailbox-grants/{grantCode}/go',
    access: 'anonymous',
    summary: "Go to Microsoft's sign-in for the mailbox",
    description:
      "Redirects to the grant tenant's `/{tenant}/oauth2/v2.0/authorize` (authorization code with PKCE and a nonce, the grant's delegated scopes, `login_hint` = the mailbox when named, `redirect_uri` = `{BROKER_PUBLIC_URL}/mailbox-grants/callback`) with a fresh single-use `state` bound to this browser.",
    responses: {
      '302': redirect('To `{ENTRA_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/authorize?…`.'),
      ...linkErrors,
    },
  },
  deviceVerification: {
    method: 'GET',
    route: 'device',
    access: 'anonymous',
    summary: 'Device-code verification page',
    description:
      'RFC 8628 §3.3: a form for the code the device shows; with `user_code`, the page of the grant it opens — the device named, what it may do, a "Sign in at Microsoft" link. Unknown codes are counted per address (10 per 5 minutes).',
    query: [queryParam('user_code', 'The code the device shows (XXXX-XXXX, any case).', { type: 'string' })],
    responses: {
      '200': page('The form, or the grant’s page.'),
      '404': page('No device waits for this code (mistyped or over 15 minutes old).'),
      '410': page('The code was used meanwhile.'),
      '429': page('Too many unknown codes from this address; Retry-After.'),
    },
  },
  deviceGo: {
    method: 'GET',
    route: 'device/go',
    access: 'anonymous',
    summary: "Go to Microsoft's sign-in for the device's grant",
    description:
      'As `/mailbox-grants/{grantCode}/go`, for the grant the user code opens: a browser-bound single-use `state`, authorization code with PKCE, the return at `/mailbox-grants/callback`.',
    query: [queryParam('user_code', 'The code the device shows.', { type: 'string' })],
    responses: {
      '302': redirect('To `{ENTRA_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/authorize?…`.'),
      '404': page('No device waits for this code.'),
      '410': page('The code was used meanwhile.'),
      '429': page('Too many unknown codes from this address.'),
    },
  },
  mailboxGrantCallback: {
    method: 'GET',
    route: 'mailbox-grants/callback',
    access: 'anonymous',
    summary: 'Return from the mailbox user’s sign-in; activates the grant',
    description:
      "Goes on only in the browser that started the sign-in, when the ID token is valid, its `tid` is the grant's tenant (a member, not a guest) and, for a grant naming a mailbox, the user is that mailbox. The user's refresh token is then kept sealed and the grant becomes `active`, audited.",
    query: [
      queryParam('state', 'The state issued at /mailbox-grants/{grantCode}/go.', { type: 'string' }),
      queryParam('code', 'The authorization code.', { type: 'string' }),
      queryParam('session_state', 'From Microsoft.', { type: 'string' }),
      ...entraErrorParams,
    ],
    responses: {
      '200': page('The mailbox is connected.'),
      ...stateErrors,
      '403': page(
        'Another organization, a guest, or not the mailbox the link names; or consent declined. Nothing is recorded.',
      ),
      '410': page('The grant was used or revoked meanwhile.'),
    },
  },
});

/** A customer admin's browser for a PBX that enrolls itself (README "A PBX that enrolls itself"). Anonymous. */
export const enrollmentRoutes = family('customers', {
  enrollmentVerification: {
    method: 'GET',
    route: 'enroll',
    access: 'anonymous',
    summary: 'Self-enrollment verification page',
    description:
      'RFC 8628 §3.3: a form for the code the device shows; with `user_code`, what the device asks to be allowed (its profiles) and a "Sign in at Microsoft" link. Unknown codes are counted per address (10 per 5 minutes).',
    query: [queryParam('user_code', 'The code the device shows (XXXX-XXXX, any case).', { type: 'string' })],
    responses: {
      '200': page('The form, or what the device asks for.'),
      '403': page('Self-enrollment is turned off.'),
      '404': page('No device waits for this code (mistyped, over 15 minutes old, or already enrolled).'),
      '410': page('Sign-ins were started with this code three times already.'),
      '429': page('Too many unknown codes from this address; Retry-After.'),
    },
  },
  enrollmentGo: {
    method: 'GET',
    route: 'enroll/go',
    access: 'anonymous',
    summary: "Go to Microsoft's admin consent for the enrolling device",
    description:
      "Registers the device's appliance (unbound) on the first visit, and starts the consent flow for an onboarding tied to it, bound to this browser: admin consent, the admin's sign-in (a member admin of the tenant; unless BROKER_ENROLLMENT is `open`, a tenant already connected), then the confirmation page naming the device and what it may use. At most three sign-ins per code.",
    query: [queryParam('user_code', 'The code the device shows.', { type: 'string' })],
    responses: {
      '302': redirect('To `{ENTRA_AUTHORITY_HOST}/organizations/v2.0/adminconsent?…`.'),
      '403': page('Self-enrollment is turned off.'),
      '404': page('No device waits for this code.'),
      '410': page('Sign-ins were started with this code three times already.'),
      '429': page('Too many unknown codes from this address.'),
    },
  },
});
