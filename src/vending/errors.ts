/**
 * RFC 6749 §5.2 errors of the token endpoint, each named after its wire code and carrying its HTTP status
 * (STYLE.md "Errors"; panva/node-oidc-provider:lib/helpers/errors.js), plus the one used when Microsoft is
 * unavailable and no valid token is cached (503 + Retry-After, SPEC.md).
 * @module
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable'
  // The device-code grant's (RFC 8628 §3.5; `authorization_declined` and `bad_verification_code` as Entra
  // names them: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code, "Expected errors").
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'authorization_declined'
  | 'bad_verification_code'
  // RFC 6749 §4.1.2.1 / RFC 8628 §3.5 `access_denied`: self-enrollment refused (src/appliances/enrollment.ts).
  | 'access_denied';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly status: number,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
    this.name = new.target.name;
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super('invalid_request', 400, description);
  }
}

/** RFC 6749 §5.2: 401; with WWW-Authenticate when the client tried HTTP Basic. */
export class InvalidClient extends OAuthError {
  constructor(description = 'Client authentication failed.', basic = false) {
    super(
      'invalid_client',
      401,
      description,
      basic ? { 'www-authenticate': 'Basic realm="consent-broker", charset="UTF-8"' } : {},
    );
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', 400, description);
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', 400, description);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description = 'Only grant_type=client_credentials is supported.') {
    super('unsupported_grant_type', 400, description);
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', 400, description);
  }
}

export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string, retryAfterSeconds: number) {
    super('temporarily_unavailable', 503, description, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}

/** Too many failed client authentications from this client id or address (docs/decisions.md "Abuse"): 429 + Retry-After. */
export class TooManyFailedAuthentications extends OAuthError {
  constructor(retryAfterSeconds: number) {
    super(
      'temporarily_unavailable',
      429,
      `Too many failed client authentications; retry after ${retryAfterSeconds} s.`,
      {
        'retry-after': String(Math.max(1, retryAfterSeconds)),
      },
    );
  }
}

/** A device-code poll that gets no token (yet): RFC 8628 §3.5, 400 with the code and what to do. */
export class DeviceFlowError extends OAuthError {
  constructor(
    code:
      | 'authorization_pending'
      | 'slow_down'
      | 'expired_token'
      | 'authorization_declined'
      | 'bad_verification_code',
    description: string,
  ) {
    super(code, 400, description);
  }
}
