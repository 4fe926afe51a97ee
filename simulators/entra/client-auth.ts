/**
 * Client authentication at Entra's token endpoint: a client secret in the body or by HTTP Basic
 * (RFC 6749 §2.3.1), or a client assertion signed with a registered certificate (RFC 7523 §3; FACTS.md §2,
 * E-CERT). Answers each failure with the AADSTS code Entra uses (FACTS.md §3).
 * @module
 */
import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { SimApp, SimCertificate } from '../common/world.js';
import { EntraError } from './errors.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What the request offered to prove who the client is. */
export type ClientCredential =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'assertion'; readonly assertion: string; readonly assertionType: string | undefined }
  | { readonly kind: 'none' };

export interface ClientIdentification {
  readonly clientId: string | undefined;
  readonly credential: ClientCredential;
}

/** Which credential type `appidacr` / `azpacr` records (E-CLAIMS): 1 secret, 2 certificate. */
export type CredentialType = 1 | 2;

function badRequestParameter(name: string): EntraError {
  // E-ERR 90100 InvalidRequestParameter - The parameter is empty or not valid. Entra's exact answer to an
  // ambiguous or malformed client authentication is **unverified**; this is the closest listed code.
  return new EntraError(400, 'invalid_request', 90100, `The parameter '${name}' is empty or not valid.`);
}

/** Reads client_id and the credential from the body and the Authorization header. */
export function identifyClient(
  form: URLSearchParams,
  authorization: string | undefined,
): ClientIdentification {
  const bodyClientId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  const assertion = form.get('client_assertion') ?? undefined;
  const assertionType = form.get('client_assertion_type') ?? undefined;
  let basic: { id: string; secret: string } | undefined;
  if (authorization && /^basic\s/i.test(authorization)) {
    // RFC 6749 §2.3.1: base64(urlencode(client_id) ":" urlencode(client_secret)).
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw badRequestParameter('Authorization');
    try {
      basic = {
        id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
        secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
      };
    } catch {
      throw badRequestParameter('Authorization');
    }
  }
  const offered = [basic, bodySecret, assertion].filter((x) => x !== undefined).length;
  // panva/node-oidc-provider:lib/shared/client_auth.js: exactly one mechanism; a second is refused.
  if (offered > 1) throw badRequestParameter(assertion ? 'client_assertion' : 'client_secret');
  if (basic && bodyClientId && bodyClientId !== basic.id) throw badRequestParameter('client_id');
  const clientId = basic?.id ?? bodyClientId;
  if (basic) return { clientId, credential: { kind: 'secret', secret: basic.secret } };
  if (bodySecret !== undefined) return { clientId, credential: { kind: 'secret', secret: bodySecret } };
  if (assertion !== undefined)
    return { clientId, credential: { kind: 'assertion', assertion, assertionType } };
  return { clientId, credential: { kind: 'none' } };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Checks a client secret against the app's secrets in constant time (STYLE.md: no `===` on secrets). */
export function verifySecret(app: SimApp, secret: string, nowMs: number): void {
  const offered = sha256(secret);
  const match = app.secrets.find((s) => timingSafeEqual(sha256(s.value), offered));
  if (!match)
    // E-ERR 7000215; live message text, HTTP 401 invalid_client.
    throw new EntraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
    );
  if (match.expiresAt <= nowMs)
    // E-ERR 7000222 InvalidClientSecretExpiredKeysProvided.
    throw new EntraError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    );
}

/** Clock skew Entra tolerates on `nbf` / `exp` of an assertion: **unverified**; 5 minutes is the usual. */
const SKEW_SECONDS = 300;

export interface AssertionContext {
  readonly app: SimApp;
  /** Token endpoint URLs this tenant answers at: an assertion's `aud` must name one (E-CERT). */
  readonly audiences: readonly string[];
  readonly nowMs: number;
}

/**
 * RFC 7523 §3 / E-CERT: header `x5t#S256` (or SHA-1 `x5t`) names a registered certificate whose key
 * verifies the signature (PS256 or RS256); `iss` = `sub` = client_id; `aud` = the token endpoint; `nbf`/`exp`
 * bracket now.
 */
export async function verifyAssertion(
  ctx: AssertionContext,
  clientId: string,
  credential: Extract<ClientCredential, { kind: 'assertion' }>,
): Promise<void> {
  if (credential.assertionType === undefined)
    throw new EntraError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_assertion_type'.",
    );
  if (credential.assertionType !== JWT_BEARER) throw badRequestParameter('client_assertion_type');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(credential.assertion);
    claims = decodeJwt(credential.assertion);
  } catch {
    // E-ERR 50027 InvalidJwtToken - Invalid JWT token.
    throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  }
  const thumbS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const thumbSha1 = typeof header.x5t === 'string' ? header.x5t : undefined;
  const cert: SimCertificate | undefined = ctx.app.certificates.find(
    (c) =>
      c.expiresAt > ctx.nowMs &&
      ((thumbS256 !== undefined && c.thumbprintSha256 === thumbS256) ||
        (thumbSha1 !== undefined && c.thumbprintSha1 === thumbSha1)),
  );
  const used = thumbS256 ?? thumbSha1 ?? '';
  if (!cert)
    // E-ERR 700027; the live text names the reason and the thumbprint the client used.
    throw new EntraError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${ctx.app.appId}'.]`,
    );
  try {
    await compactVerify(credential.assertion, createPublicKey(cert.publicKeyPem), {
      algorithms: ['PS256', 'RS256'],
    });
  } catch {
    throw new EntraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }
  if (claims.iss !== clientId || claims.sub !== clientId)
    // Java SDK troubleshooting page (FACTS.md §3): 700021.
    throw new EntraError(
      401,
      'invalid_client',
      700021,
      "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
    );
  const auds = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  const wanted = new Set(ctx.audiences.map((a) => a.toLowerCase()));
  if (!auds.some((a) => wanted.has(a.toLowerCase())))
    // FACTS.md §3: 700023.
    throw new EntraError(
      401,
      'invalid_client',
      700023,
      'Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .',
    );
  const now = Math.floor(ctx.nowMs / 1000);
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
  if (exp === undefined || exp + SKEW_SECONDS < now || (nbf !== undefined && nbf - SKEW_SECONDS > now))
    // FACTS.md §3: 700024 (third-party only).
    throw new EntraError(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date(ctx.nowMs).toISOString()}, assertion valid from ${nbf === undefined ? 'unspecified' : new Date(nbf * 1000).toISOString()}, expiry time of assertion ${exp === undefined ? 'unspecified' : new Date(exp * 1000).toISOString()}. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .`,
    );
}
