/**
 * Why a consent page cannot go on, as stable reasons the HTTP layer renders as pages (src/http/pages). Each
 * carries its HTTP status; `supportCode` keeps Microsoft's AADSTS code for support where there is one.
 * @module
 */

export type ConsentFailureReason =
  | 'linkNotFound'
  | 'linkExpired'
  | 'linkUsed'
  | 'stateInvalid'
  | 'stateExpired'
  | 'stateReplayed'
  | 'otherBrowser'
  | 'onboardingTaken'
  | 'badParameters'
  | 'consentDenied'
  | 'consentError'
  | 'notAnAdmin'
  | 'notAMember'
  | 'tenantMismatch'
  | 'wrongMailbox'
  | 'userCodeUnknown'
  | 'tooManyAttempts'
  | 'codeAttemptsUsed'
  | 'enrollmentClosed'
  | 'temporarilyUnavailable';

const STATUS: Record<ConsentFailureReason, number> = {
  linkNotFound: 404,
  linkExpired: 410,
  linkUsed: 410,
  stateInvalid: 400,
  stateExpired: 400,
  stateReplayed: 409,
  otherBrowser: 400,
  onboardingTaken: 409,
  badParameters: 400,
  consentDenied: 403,
  consentError: 400,
  notAnAdmin: 403,
  notAMember: 403,
  tenantMismatch: 403,
  wrongMailbox: 403,
  userCodeUnknown: 404,
  tooManyAttempts: 429,
  codeAttemptsUsed: 410,
  enrollmentClosed: 403,
  temporarilyUnavailable: 503,
};

export class ConsentFailure extends Error {
  readonly status: number;
  constructor(
    readonly reason: ConsentFailureReason,
    readonly supportCode?: string,
    /** For temporarilyUnavailable: seconds to suggest in Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(reason);
    this.name = 'ConsentFailure';
    this.status = STATUS[reason];
  }
}
