/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2): exactly one of
 * `client_secret_basic`, `client_secret_post` or `private_key_jwt`; a `client_id` that disagrees with the
 * authenticated one is refused (panva/node-oidc-provider:lib/shared/client_auth.js). For assertions the
 * claims are checked first, then the signature, then the `jti` is recorded
 * (panva/node-oidc-provider:lib/shared/jwt_client_auth.js).
 * @module
 */
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { NOT_CACHED, type RecordDirectory } from '../directory/record-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import { ASSERTION_ALGORITHMS, matchClientSecret } from '../appliances/registry.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import { InvalidClient, InvalidRequest } from './errors.js';
import type { JtiStore } from './jti-store.js';
import {
  canonicalBasic,
  credentialKey,
  type VerifiedCredential,
  type VerifiedCredentials,
} from './warm-path.js';
import { GUID } from '../ids.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 §3: an assertion may be valid for at most 5 minutes from now. */
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;

export interface ClientAuthDeps {
  readonly directory: RecordDirectory;
  readonly keys: BrokerKeys;
  readonly jtis: JtiStore;
  /** `${BROKER_PUBLIC_URL}/oauth2/token` and the issuer `BROKER_PUBLIC_URL`: the accepted assertion audiences. */
  readonly audiences: readonly string[];
  readonly now: () => Date;
  /** Basic credentials verified before, so that a repeated request skips the keyed hash (warm path). */
  readonly verified?: VerifiedCredentials;
}

export interface AuthenticatedClient {
  readonly appliance: Appliance;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

/** A client vouched for by credentials this instance remembered (`rememberedClient`). */
export interface RememberedClient extends AuthenticatedClient {
  readonly remembered: VerifiedCredential;
}

export async function authenticateClient(
  deps: ClientAuthDeps,
  authorization: string | null,
  form: ReadonlyMap<string, string>,
): Promise<AuthenticatedClient> {
  const basic = authorization !== null && /^basic /i.test(authorization.trim());
  const post = form.has('client_secret');
  const jwt = form.has('client_assertion') || form.has('client_assertion_type');
  const used = [basic, post, jwt].filter(Boolean).length;
  if (authorization !== null && !basic)
    throw new InvalidRequest('The Authorization header must use the Basic scheme.');
  if (used > 1) throw new InvalidRequest('Use exactly one client authentication method (RFC 6749 §2.3).');
  if (used === 0)
    throw new InvalidClient(
      'Client authentication is required: client_secret_basic, client_secret_post or private_key_jwt.',
    );

  if (basic) {
    const { clientId, secret } = parseBasic(authorization);
    const claimed = form.get('client_id');
    if (claimed !== undefined && claimed !== clientId)
      throw new InvalidRequest('client_id does not match the authenticated client.');
    const { appliance, validUntil } = await bySecret(deps, clientId, secret, true);
    const canonical = deps.verified && canonicalBasic(clientId, secret);
    if (canonical !== undefined)
      deps.verified?.remember(credentialKey(canonical), {
        clientId: clientId.toLowerCase(),
        appliance,
        validUntil,
        held: deps.directory.holdAppliance(appliance.clientId),
      });
    return { appliance, method: 'client_secret_basic' };
  }
  if (post) {
    const clientId = form.get('client_id');
    if (!clientId) throw new InvalidRequest('client_id is required with client_secret.');
    return {
      appliance: (await bySecret(deps, clientId, form.get('client_secret')!, false)).appliance,
      method: 'client_secret_post',
    };
  }
  return { appliance: await byAssertion(deps, form), method: 'private_key_jwt' };
}

/** RFC 6749 §2.3.1: Basic with the client id and secret form-urlencoded before base64. */
function parseBasic(authorization: string): { clientId: string; secret: string } {
  const encoded = authorization.trim().slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length > 2048)
    throw new InvalidClient('Malformed Basic credentials.', true);
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClient('Malformed Basic credentials.', true);
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClient('Malformed Basic credentials.', true);
  }
}

async function bySecret(
  deps: ClientAuthDeps,
  clientId: string,
  secret: string,
  basic: boolean,
): Promise<{ appliance: Appliance; validUntil: number }> {
  const appliance = GUID.test(clientId) ? await deps.directory.appliance(clientId.toLowerCase()) : undefined;
  // One answer for unknown client, wrong method, revoked and wrong secret: nothing to probe for.
  if (!appliance || appliance.status !== 'active' || appliance.authMethod !== 'client_secret')
    throw new InvalidClient(undefined, basic);
  const validUntil = await matchClientSecret(deps.keys, appliance, secret, deps.now());
  if (validUntil === undefined) throw new InvalidClient(undefined, basic);
  return { appliance, validUntil };
}

/** The longest Basic value `parseBasic` accepts: "Basic " and 2,048 characters of base64. */
const MAX_BASIC = 6 + 2048;

/**
 * The client of a request whose Basic credentials this instance verified before, in whatever spelling, and
 * that would pass the full check again (src/vending/warm-path.ts), answered from memory without
 * a promise; undefined sends the request the full way (also when the directory would have to read the
 * appliance first: a record read again is a new one, which the full check verifies and remembers).
 */
export function rememberedClient(
  deps: ClientAuthDeps,
  authorization: string | null,
  form: ReadonlyMap<string, string>,
  nowMs = deps.now().getTime(),
): RememberedClient | undefined {
  if (authorization === null || deps.verified === undefined) return undefined;
  const found = findVerified(deps.verified, authorization);
  if (found === undefined) return undefined;
  const { key, known, clientIdAsSent } = found;
  // Requests that break a rule of authenticateClient (a second method, another client_id) go the full way
  // and get its answer.
  if (form.has('client_secret') || form.has('client_assertion') || form.has('client_assertion_type'))
    return undefined;
  const claimed = form.get('client_id');
  if (claimed !== undefined && claimed !== clientIdAsSent) return undefined;
  const current =
    known.held !== undefined ? known.held.peek() : deps.directory.peekAppliance(known.appliance.clientId);
  if (current === NOT_CACHED) return undefined;
  if (current !== known.appliance || nowMs >= known.validUntil) {
    deps.verified.forget(key);
    return undefined;
  }
  return { appliance: current, method: 'client_secret_basic', remembered: known };
}

/** The entry of a Basic header's credentials, by its canonical spelling; the client id as the header spells it. */
function findVerified(
  verified: VerifiedCredentials,
  authorization: string,
): { key: string; known: VerifiedCredential; clientIdAsSent: string } | undefined {
  if (authorization.length > MAX_BASIC) return undefined;
  // The canonical spelling (what PBXs send): one SHA-256 of the header's base64 text, no parsing.
  const sent = authorization.startsWith('Basic ') ? authorization.slice(6) : undefined;
  if (sent !== undefined) {
    const key = credentialKey(sent);
    const known = verified.get(key);
    if (known !== undefined) return { key, known, clientIdAsSent: known.clientId };
  }
  // Any other spelling of the same credentials finds the same entry through their canonical spelling.
  if (!/^basic /i.test(authorization.trim())) return undefined;
  let parsed: { clientId: string; secret: string };
  try {
    parsed = parseBasic(authorization);
  } catch (err) {
    if (err instanceof InvalidClient) return undefined; // malformed: the full way refuses it
    throw err;
  }
  const canonical = canonicalBasic(parsed.clientId, parsed.secret);
  if (canonical === undefined || canonical === sent) return undefined;
  const key = credentialKey(canonical);
  const known = verified.get(key);
  return known === undefined ? undefined : { key, known, clientIdAsSent: parsed.clientId };
}

async function byAssertion(deps: ClientAuthDeps, form: ReadonlyMap<string, string>): Promise<Appliance> {
  if (form.get('client_assertion_type') !== JWT_BEARER) {
    throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER} (RFC 7523 §2.2).`);
  }
  const assertion = form.get('client_assertion');
  if (!assertion) throw new InvalidRequest('client_assertion is required.');
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw new InvalidClient('client_assertion is not a JWT.');
  }
  const clientId = typeof claims.iss === 'string' ? claims.iss : '';
  const claimed = form.get('client_id');
  if (claimed !== undefined && claimed !== clientId)
    throw new InvalidRequest('client_id does not match the assertion issuer.');
  // RFC 7523 §3: iss and sub are the client id; aud names this server; exp is required.
  if (!GUID.test(clientId) || claims.sub !== clientId)
    throw new InvalidClient("The assertion's iss and sub must both be the client id.");
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && isAudience(deps.audiences, a))) {
    throw new InvalidClient(`The assertion's aud must be ${deps.audiences.join(' or ')}.`);
  }
  const now = Math.floor(deps.now().getTime() / 1000);
  if (typeof claims.exp !== 'number') throw new InvalidClient('The assertion must have an exp.');
  if (claims.exp <= now - CLOCK_SKEW_S) throw new InvalidClient('The assertion has expired.');
  if (claims.exp > now + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S)
    throw new InvalidClient("The assertion's exp is more than 5 minutes ahead.");
  if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_SKEW_S)
    throw new InvalidClient('The assertion is not valid yet (nbf).');
  if (typeof claims.iat === 'number' && claims.iat > now + CLOCK_SKEW_S)
    throw new InvalidClient('The assertion is issued in the future (iat).');
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256)
    throw new InvalidClient('The assertion must have a jti.');

  const appliance = await deps.directory.appliance(clientId.toLowerCase());
  if (!appliance || appliance.status !== 'active' || appliance.authMethod !== 'private_key_jwt')
    throw new InvalidClient();
  try {
    await jwtVerify(assertion, createLocalJWKSet({ keys: [...appliance.jwks] }), {
      algorithms: [...ASSERTION_ALGORITHMS],
      clockTolerance: CLOCK_SKEW_S,
      currentDate: deps.now(),
    });
  } catch (err) {
    if (err instanceof joseErrors.JOSEAlgNotAllowed)
      throw new InvalidClient(
        'The assertion is signed with an algorithm that is not accepted (RS256, PS256, ES256).',
      );
    if (err instanceof joseErrors.JWKSNoMatchingKey)
      throw new InvalidClient('The assertion is not signed with a registered key (kid).');
    throw new InvalidClient('The assertion signature is not valid.');
  }
  if (!(await deps.jtis.use(appliance.clientId, claims.jti, new Date(claims.exp * 1000)))) {
    throw new InvalidClient('The assertion was already used (jti).');
  }
  return appliance;
}

/**
 * RFC 7523 §3: `aud` identifies this server — one of `audiences`, or the URL of one of its token endpoints
 * under Microsoft's path shape, `{base}/{tenant}/oauth2/v2.0/token` or v1 `{base}/{tenant}/oauth2/token`, for
 * each `{base}/oauth2/token` in `audiences`: MSAL puts the token endpoint it read from the tenant's metadata
 * there (src/http/openid-configuration.ts). The `{tenant}` itself is checked by the grant, not here.
 */
function isAudience(audiences: readonly string[], aud: string): boolean {
  if (audiences.includes(aud)) return true;
  const match = /^(.+)\/[^/]+\/oauth2\/(?:v2\.0\/)?token$/.exec(aud);
  return match !== null && audiences.includes(`${match[1]}/oauth2/token`);
}

/** The client id a request claims, read without checking anything (for throttling before authentication). */
export function claimedClientId(
  authorization: string | null,
  form: ReadonlyMap<string, string>,
): string | undefined {
  try {
    if (authorization && /^basic /i.test(authorization.trim())) {
      const decoded = Buffer.from(authorization.trim().slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0)
        return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')).slice(0, 64).toLowerCase();
    }
    const assertion = form.get('client_assertion');
    if (assertion) {
      const iss = decodeJwt(assertion).iss;
      return typeof iss === 'string' ? iss.slice(0, 64).toLowerCase() : undefined;
    }
    return form.get('client_id')?.slice(0, 64).toLowerCase();
  } catch {
    return undefined;
  }
}
