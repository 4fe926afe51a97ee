/**
 * Error pages of the consent flow: one generic builder, and a catalogue of the situations the flow meets,
 * keyed by a stable reason, each in words an admin understands. Nothing a request carried is shown except
 * through escaping, and never a stack trace (SPEC.md "Guarantees"); an Entra error code is kept for support.
 * @module
 */
import type { ConsentFailureReason } from '../../consent/errors.js';
import type { Page } from './document.js';
import { html, type SafeHtml } from './html.js';

export interface ErrorPageInput {
  /** A 4xx or 5xx status. */
  readonly status: number;
  /** The page's title and `<h1>`. */
  readonly heading: string;
  /** What happened. */
  readonly explanation: string | SafeHtml;
  /** What the reader can do about it. */
  readonly whatToDo: string | SafeHtml;
  /** A code for support, e.g. `AADSTS65004` or a correlation id; shown in a `<code>`. */
  readonly supportCode?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const MAX_SUPPORT_CODE = 200;

export function errorPage(input: ErrorPageInput): Page {
  if (!Number.isInteger(input.status) || input.status < 400 || input.status > 599)
    throw new RangeError(`an error page needs a 4xx or 5xx status, got ${input.status}`);
  const code = input.supportCode?.trim().slice(0, MAX_SUPPORT_CODE);
  const body = html`<div class="status status-error"><p>${input.explanation}</p></div>
    <h2>What you can do</h2>
    <p>${input.whatToDo}</p>
    ${code ? html`<p class="note">If you contact support, give them this code: <code>${code}</code></p>` : ''} `;
  return {
    status: input.status,
    title: input.heading,
    body,
    ...(input.headers ? { headers: input.headers } : {}),
  };
}

/** The situations of the consent flow that end on an error page. */
export type ErrorReason = ConsentFailureReason | 'serverError';

export interface ErrorDetails {
  /** Named in the advice when given; "the vendor" otherwise. */
  readonly vendorName?: string;
  /** E.g. the AADSTS code of an Entra error (`AADSTS65004`), or a correlation id. */
  readonly supportCode?: string;
  /** For `temporarilyUnavailable`: sent as Retry-After. */
  readonly retryAfterSeconds?: number;
}

type Entry = (d: ErrorDetails, vendor: string) => ErrorPageInput;

const NOTHING_RECORDED = 'Nothing was recorded.';
const ADMINS = 'a Global Administrator or a Privileged Role Administrator';

/** Plain words for Entra errors an admin can meet at the admin-consent page (FACTS.md §3). */
const ENTRA_ERRORS: Readonly<Record<string, string>> = {
  AADSTS65004: 'The consent was declined at Microsoft.',
  AADSTS650052:
    'Your organization does not subscribe to a Microsoft service the app needs (for example Exchange Online).',
  AADSTS50020: 'The account you signed in with does not belong to this organization.',
  AADSTS50011: "The vendor's app is not set up for this return address. This needs the vendor's support.",
  AADSTS90002: 'Microsoft does not know the organization that was named.',
  AADSTS53003: "Your organization's Conditional Access policies blocked the sign-in.",
  AADSTS7000112: "The vendor's app has been disabled in your organization.",
  AADSTS90038: 'Your organization is in another Microsoft cloud (a national cloud) than this service.',
};

const ENTRIES: Readonly<Record<ErrorReason, Entry>> = {
  linkNotFound: (d, vendor) => ({
    status: 404,
    heading: 'This consent link is not valid',
    explanation:
      'This site has no consent request for this link. The link may be incomplete (for example, cut off by an email program), or it was withdrawn.',
    whatToDo: `Check that you opened the whole link. If it still does not work, ask ${vendor} for a new consent link.`,
    ...code(d),
  }),
  linkExpired: (d, vendor) => ({
    status: 410,
    heading: 'This consent link has expired',
    explanation:
      'Consent links work for a limited time, and this one is no longer valid. Nothing was changed.',
    whatToDo: `Ask ${vendor} for a new consent link.`,
    ...code(d),
  }),
  linkUsed: (d, vendor) => ({
    status: 410,
    heading: 'This consent link has already been used',
    explanation: 'Consent was already given with this link, and a link works only once.',
    whatToDo: `If your organization is connected, there is nothing more to do. To approve again (for example, to add permissions), ask ${vendor} for a new consent link.`,
    ...code(d),
  }),
  stateInvalid: (d) => ({
    status: 400,
    heading: 'This response cannot be accepted',
    explanation: `The response from Microsoft does not belong to a consent request started on this site, for example because the address was changed or opened in another browser. ${NOTHING_RECORDED}`,
    whatToDo: 'Open the consent link you received again and select "Continue to Microsoft".',
    ...code(d),
  }),
  stateExpired: (d) => ({
    status: 400,
    heading: 'The consent request timed out',
    explanation: `Too much time passed between leaving this site and coming back from Microsoft. ${NOTHING_RECORDED}`,
    whatToDo:
      'Open the consent link you received again and select "Continue to Microsoft". If you already approved at Microsoft, approving again does no harm.',
    ...code(d),
  }),
  stateReplayed: (d) => ({
    status: 409,
    heading: 'This consent response was already used',
    explanation:
      "This page was opened before, for example with the browser's Back or Reload button. A response from Microsoft counts only once, so it was not processed again.",
    whatToDo:
      'If you saw a result page before, that result stands. Otherwise, open the consent link you received again.',
    ...code(d),
  }),
  otherBrowser: (d) => ({
    status: 400,
    heading: 'Start again from your link',
    explanation: `This answer from Microsoft belongs to a consent request that was started in another browser, or this browser no longer has the request's cookie (for example, because cookies were cleared or blocked). For your protection, a consent is completed only in the browser that started it. ${NOTHING_RECORDED}`,
    whatToDo:
      'Open the consent link you received in this browser, with cookies allowed for this site, and select "Continue to Microsoft". If someone sent you this address directly instead of a consent link, do not go on.',
    ...code(d),
  }),
  onboardingTaken: (d, vendor) => ({
    status: 409,
    heading: 'This consent link belongs to another organization',
    explanation: `This consent link has already been used for another organization, or was completed meanwhile. A link connects one organization only. ${NOTHING_RECORDED}`,
    whatToDo: `Ask ${vendor} for a new consent link for your organization.`,
    ...code(d),
  }),
  badParameters: (d) => ({
    status: 400,
    heading: 'This address is not valid',
    explanation: `The address of this page is incomplete or was changed: a value is missing, repeated, too long or malformed. ${NOTHING_RECORDED}`,
    whatToDo: 'Open the consent link you received again.',
    ...code(d),
  }),
  consentDenied: (d) => ({
    status: 403,
    heading: 'The consent was not given',
    explanation: `The request was cancelled or declined at Microsoft, so no permission was granted. ${NOTHING_RECORDED}`,
    whatToDo: `To connect your organization, open the consent link again and accept the permissions, signed in as ${ADMINS}.`,
    supportCode: d.supportCode ?? 'AADSTS65004',
  }),
  consentError: (d, vendor) => ({
    status: 400,
    heading: 'Microsoft did not complete the consent',
    explanation: `${entraExplanation(d.supportCode)} ${NOTHING_RECORDED}`,
    whatToDo: `Open the consent link again. If it fails again, contact ${vendor}'s support and give them the code below.`,
    ...code(d),
  }),
  notAnAdmin: (d) => ({
    status: 403,
    heading: 'Your account cannot approve this request',
    explanation: `Approving for the whole organization needs an administrator role, and the account you signed in with holds none that can grant this consent. ${NOTHING_RECORDED}`,
    whatToDo: `Ask ${ADMINS} of your organization to open the consent link and approve.`,
    ...code(d),
  }),
  notAMember: (d) => ({
    status: 403,
    heading: 'This account does not belong to the organization',
    explanation: `You signed in with a guest account, or with an account of another organization. Only an administrator who is a member of the organization can approve for it. ${NOTHING_RECORDED}`,
    whatToDo:
      'Sign out at Microsoft, open the consent link again, and sign in with an administrator account of the organization you want to connect.',
    ...code(d),
  }),
  tenantMismatch: (d, vendor) => ({
    status: 403,
    heading: 'This is a different organization',
    explanation: `The organization you signed in to is not the one this consent is for. ${NOTHING_RECORDED}`,
    whatToDo: `Open the consent link again and sign in with an administrator account of the right organization. If you are not sure which one that is, ask ${vendor}.`,
    ...code(d),
  }),
  userCodeUnknown: (d) => ({
    status: 404,
    heading: 'This code is not known',
    explanation: `No device is waiting for this code: it may be mistyped, or more than 15 minutes old. ${NOTHING_RECORDED}`,
    whatToDo:
      'Check the code your device shows and enter it again. If the device shows no code any more, start again on the device.',
    ...code(d),
  }),
  tooManyAttempts: (d) => ({
    status: 429,
    heading: 'Too many codes tried',
    explanation: `Too many unknown codes were entered from your network just now. ${NOTHING_RECORDED}`,
    whatToDo: 'Wait a few minutes, then enter the code your device shows.',
    headers: { 'retry-after': '300' },
    ...code(d),
  }),
  codeAttemptsUsed: (d) => ({
    status: 410,
    heading: 'This code was used too often',
    explanation: `Sign-ins were started with this code too many times, so it no longer works. ${NOTHING_RECORDED}`,
    whatToDo: 'Start the enrollment again on the device: it shows a new code.',
    ...code(d),
  }),
  enrollmentClosed: (d, vendor) => ({
    status: 403,
    heading: 'This device cannot enroll itself here',
    explanation: `${vendor} lets devices enroll themselves only for organizations it has already connected, and yours is not one of them yet. ${NOTHING_RECORDED}`,
    whatToDo: `Ask ${vendor} for a consent link to connect your organization first, then start the enrollment again on the device.`,
    ...code(d),
  }),
  wrongMailbox: (d, vendor) => ({
    status: 403,
    heading: 'This is a different account',
    explanation: `The account you signed in with is not the mailbox this link is for. ${NOTHING_RECORDED}`,
    whatToDo: `Open the link again and sign in as the mailbox's own user, or as a user with Full Access to it (a shared mailbox: your administrator grants it in Exchange). If it still fails, ask ${vendor} for a new link.`,
    ...code(d),
  }),
  temporarilyUnavailable: (d) => ({
    status: 503,
    heading: 'The service is temporarily unavailable',
    explanation: `Microsoft or this service could not be reached just now. ${NOTHING_RECORDED}`,
    whatToDo: 'Open the consent link again in a few minutes.',
    ...code(d),
    ...(d.retryAfterSeconds !== undefined
      ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(d.retryAfterSeconds))) } }
      : {}),
  }),
  serverError: (d, vendor) => ({
    status: 500,
    heading: 'Something went wrong',
    explanation: `This service could not complete the request. ${NOTHING_RECORDED}`,
    whatToDo: `Open the consent link again later. If it keeps failing, contact ${vendor}'s support and give them the code below.`,
    ...code(d),
  }),
};

/** Every reason the catalogue knows, for tests and exhaustive mappings. */
export const ERROR_REASONS = Object.freeze(Object.keys(ENTRIES) as ErrorReason[]);

/** The error page for a situation of the consent flow. */
export function errorPageFor(reason: ErrorReason, details: ErrorDetails = {}): Page {
  return errorPage(ENTRIES[reason](details, details.vendorName ?? 'the vendor'));
}

function code(d: ErrorDetails): { supportCode?: string } {
  return d.supportCode ? { supportCode: d.supportCode } : {};
}

function entraExplanation(supportCode: string | undefined): string {
  const aadsts = /AADSTS\d+/i.exec(supportCode ?? '')?.[0].toUpperCase();
  return (aadsts && ENTRA_ERRORS[aadsts]) ?? 'Microsoft answered with an error instead of the consent.';
}
