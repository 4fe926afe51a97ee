/**
 * The simulated Entra ID signing key. Entra signs access and ID tokens with it (RS256, `kid` and, for
 * v1 tokens, `x5t` in the header; FACTS.md §4.2) and publishes it at the JWKS endpoint; the Graph and Key
 * Vault simulators verify bearer tokens with it, as the real services do with Entra's keys.
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

export interface TokenKeys {
  readonly kid: string;
  /** Signs `claims` as a JWT; `header` adds fields such as `x5t` or `nonce`. */
  sign(claims: JWTPayload, header?: Record<string, string>): Promise<string>;
  /** Verifies signature, `exp` and `nbf`; throws jose errors otherwise. */
  verify(token: string): Promise<JWTPayload>;
  /** The public key as Entra publishes it in `discovery/v2.0/keys`. */
  jwk(): Promise<JWK>;
}

export function createTokenKeys(): TokenKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha1').update(der).digest('base64url');
  return {
    kid,
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid, ...header }).sign(privateKey),
    verify: async (token) => (await jwtVerify(token, publicKey, { algorithms: ['RS256'] })).payload,
    jwk: () => publicJwk(publicKey, kid),
  };
}

async function publicJwk(publicKey: KeyObject, kid: string): Promise<JWK> {
  const jwk = await exportJWK(publicKey);
  return { kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e };
}
