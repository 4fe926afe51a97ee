/**
 * Who may call the support API (SPEC.md "Vendor support"): an Entra access token issued by the vendor's
 * own tenant for the broker's API, with app role Broker.Read (read) or Broker.Admin (changes).
 *
 * Checked with jose against the authority's published keys: the signature and algorithm (RS256 only), the
 * issuer (v1 `https://sts.windows.net/{tid}/` or v2 `{authority}/{tid}/v2.0`, FACTS.md §4.2), the audience
 * (v1 tokens carry the App ID URI, v2 tokens the client id GUID), `exp` and `nbf`, and the role.
 * @module
 */
import type { Issuers } from '../cloud/clouds.js';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { EntraUnavailable } from '../adapters/entra/port.js';
import type { AuditActor } from '../audit/audit-log.js';

export type StaffRole = 'Broker.Read' | 'Broker.Admin';

export interface StaffPrincipal {
  /** Object id of the caller in the vendor tenant (a user or a client app's service principal). */
  readonly objectId: string;
  /** A display name for audit records: the UPN or name, or the client app id; never a token. */
  readonly displayName: string;
  readonly roles: readonly StaffRole[];
}

export interface StaffAuthConfig {
  readonly authorityHost: string;
  /** The cloud's token issuers (src/cloud/clouds.ts): not derived from the authority host. */
  readonly issuers: Issuers;
  readonly vendorTenantId: string;
  readonly audiences: readonly string[];
  /** Allowed clock skew; small, so that an expired token is refused promptly. */
  readonly clockToleranceSeconds?: number;
}

/** Why a caller was refused. Keys that cannot be fetched are no refusal: `EntraUnavailable` (an outage). */
export type StaffAuthFailure = 'missing' | 'malformed' | 'invalid' | 'forbidden';

/** How long a caller waits when the identity provider's keys cannot be fetched. */
const KEYS_RETRY_AFTER_SECONDS = 10;
const keysUnavailable = (cause: unknown) =>
  new EntraUnavailable(KEYS_RETRY_AFTER_SECONDS, 'The identity provider keys could not be fetched.', {
    cause,
  });

/** The audit actor of a staff caller: the one way every support route names who did it. */
export function staffActor(staff: StaffPrincipal): AuditActor {
  return { kind: 'staff', id: staff.objectId, name: staff.displayName };
}

export class StaffAuthError extends Error {
  constructor(
    readonly failure: StaffAuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'StaffAuthError';
  }
}

export interface StaffAuthenticator {
  /** Checks an `Authorization` header value for `role`; Broker.Admin includes Broker.Read. */
  authenticate(authorization: string | null, role: StaffRole): Promise<StaffPrincipal>;
  /** Fetches the vendor tenant's signing keys afresh: the health probe of Entra ID. */
  probe(): Promise<void>;
}

export function createStaffAuthenticator(
  config: StaffAuthConfig,
  keys?: JWTVerifyGetKey,
): StaffAuthenticator {
  // Entra publishes the same keys for v1 and v2 tokens at the v2 keys endpoint (FACTS.md §4.3).
  const remote = keys
    ? undefined
    : createRemoteJWKSet(new URL(`${config.authorityHost}/${config.vendorTenantId}/discovery/v2.0/keys`), {
        timeoutDuration: 5_000,
        cooldownDuration: 30_000,
      });
  const jwks: JWTVerifyGetKey = keys ?? remote!;
  const issuers = [
    config.issuers.v1Issuer(config.vendorTenantId),
    config.issuers.v2Issuer(config.vendorTenantId),
  ];

  return {
    async probe() {
      await remote?.reload();
    },
    async authenticate(authorization, role) {
      if (!authorization)
        throw new StaffAuthError('missing', 'A bearer token from the vendor tenant is required.');
      // RFC 6750 §2.1: "Bearer" b64token; the scheme is case-insensitive.
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization.trim());
      if (!match) throw new StaffAuthError('malformed', 'The Authorization header must be "Bearer <token>".');
      let payload;
      try {
        ({ payload } = await jwtVerify(match[1]!, jwks, {
          algorithms: ['RS256'],
          issuer: issuers,
          audience: [...config.audiences],
          clockTolerance: config.clockToleranceSeconds ?? 30,
          requiredClaims: ['exp', 'tid'],
        }));
      } catch (err) {
        throw fromJoseError(err);
      }
      if (payload.tid !== config.vendorTenantId)
        throw new StaffAuthError('invalid', 'The token was not issued by the vendor tenant.');
      const roles = (Array.isArray(payload.roles) ? payload.roles : []).filter(
        (r): r is StaffRole => r === 'Broker.Read' || r === 'Broker.Admin',
      );
      const allowed = role === 'Broker.Read' ? roles.length > 0 : roles.includes('Broker.Admin');
      if (!allowed) throw new StaffAuthError('forbidden', `The token lacks the app role ${role}.`);
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return {
        objectId: str(payload.oid) ?? str(payload.sub) ?? 'unknown',
        displayName:
          str(payload.upn) ??
          str(payload.preferred_username) ??
          str(payload.name) ??
          str(payload.appid) ??
          str(payload.azp) ??
          'unknown',
        roles,
      };
    },
  };
}

function fromJoseError(err: unknown): StaffAuthError | EntraUnavailable {
  if (err instanceof joseErrors.JWTExpired) return new StaffAuthError('invalid', 'The token has expired.');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const what = err.claim === 'nbf' ? 'is not valid yet' : `has an unexpected "${err.claim}" claim`;
    return new StaffAuthError('invalid', `The token ${what}.`);
  }
  // A key set that cannot be had (timeout, non-200 answer, unusable document) is an outage of the identity
  // provider, not the caller's fault: jose reports a non-200 JWKS answer as a generic JOSEError.
  if (
    err instanceof joseErrors.JWKSInvalid ||
    (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC')
  ) {
    return keysUnavailable(err);
  }
  if (err instanceof joseErrors.JWKSTimeout) return keysUnavailable(err);
  if (err instanceof joseErrors.JOSEError) {
    const reasons: Record<string, string> = {
      ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The token signature is not valid.',
      ERR_JOSE_ALG_NOT_ALLOWED: 'The token is signed with an algorithm that is not accepted.',
      ERR_JWKS_NO_MATCHING_KEY: 'The token is not signed with a key of the identity provider.',
      ERR_JWS_INVALID: 'The token is not a valid signed JWT.',
      ERR_JWT_INVALID: 'The token is not a valid JWT.',
    };
    return new StaffAuthError('invalid', reasons[err.code] ?? 'The token is not valid.');
  }
  // fetch failures of the key set (network, TLS, 5xx) are an outage, not the caller's fault.
  return keysUnavailable(err);
}
