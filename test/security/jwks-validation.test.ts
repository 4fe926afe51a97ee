/**
 * T7 and E4 (docs/security.md): an appliance's `private_key_jwt` keys are given inline as a JWK Set (RFC 7591
 * §2 `jwks`) and checked by `validateJwks` before anything is stored: public members only, RSA of 2048 bits at
 * least, EC only P-256 with ES256, at most five keys, each usable. What is stored is rebuilt from the members
 * the broker uses, so no URL a key names (`x5u`, `jku`) is kept, and nothing is ever fetched.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryInputError, validateJwks } from '../../src/appliances/registry.js';

type Jwk = Record<string, unknown>;

function rsa(bits: number, kid = `rsa-${bits}`): { pub: Jwk; priv: Jwk } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    pub: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
    priv: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
  };
}

function ec(namedCurve: string, alg: string, kid = `ec-${namedCurve}`): { pub: Jwk; priv: Jwk } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    pub: { ...publicKey.export({ format: 'jwk' }), kid, alg },
    priv: { ...privateKey.export({ format: 'jwk' }), kid, alg },
  };
}

async function refusal(jwks: unknown): Promise<string> {
  const err = await validateJwks(jwks).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryInputError);
  return (err as Error).message;
}

const rsa2048 = rsa(2048);
const p256 = ec('prime256v1', 'ES256');

describe('validateJwks (T7)', () => {
  it('accepts an RSA 2048 key and a P-256 key, and keeps only their public members', async () => {
    const keys = await validateJwks({ keys: [rsa2048.pub, p256.pub] });
    expect(keys).toEqual([
      { kty: 'RSA', alg: 'RS256', use: 'sig', n: rsa2048.pub.n, e: rsa2048.pub.e, kid: 'rsa-2048' },
      {
        kty: 'EC',
        alg: 'ES256',
        use: 'sig',
        crv: 'P-256',
        x: p256.pub.x,
        y: p256.pub.y,
        kid: 'ec-prime256v1',
      },
    ]);
  });

  it.each([
    ['an RSA private key (d, p, q, dp, dq, qi)', () => rsa2048.priv],
    ['an EC private key (d)', () => p256.priv],
    ['a public RSA key with only d added', () => ({ ...rsa2048.pub, d: rsa2048.priv.d })],
    ['a symmetric key (k)', () => ({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' })],
  ])('refuses %s as private key material', async (_, key) => {
    const message = await refusal({ keys: [key()] });
    expect(message).toContain('private key material');
    // The refusal names where, never the key's values.
    expect(message).not.toContain(String(rsa2048.priv.d));
  });

  it('refuses an RSA key under 2048 bits', async () => {
    expect(await refusal({ keys: [rsa(1024).pub] })).toContain('at least 2048 bits');
  });

  it.each([
    ['P-384', () => ec('secp384r1', 'ES384').pub],
    ['P-384 claiming ES256', () => ({ ...ec('secp384r1', 'ES384').pub, alg: 'ES256' })],
    ['P-521', () => ec('secp521r1', 'ES512').pub],
    ['secp256k1', () => ({ ...ec('secp256k1', 'ES256K').pub, alg: 'ES256' })],
  ])('refuses an EC key on %s', async (_, key) => {
    await refusal({ keys: [key()] });
  });

  it('refuses an RSA key declared for ES256, HMAC and none', async () => {
    for (const alg of ['ES256', 'HS256', 'none']) await refusal({ keys: [{ ...rsa2048.pub, alg }] });
  });

  it('holds at most five keys, and at least one', async () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ ...p256.pub, kid: `k${i}` }));
    await expect(validateJwks({ keys: five })).resolves.toHaveLength(5);
    expect(await refusal({ keys: [...five, { ...p256.pub, kid: 'k5' }] })).toContain('1 to 5 keys');
    expect(await refusal({ keys: [] })).toContain('1 to 5 keys');
  });

  it('refuses a point that is not on the curve, duplicate kids, and several keys without kids', async () => {
    await refusal({ keys: [{ ...p256.pub, y: p256.pub.x }] });
    await refusal({ keys: [p256.pub, { ...rsa2048.pub, kid: p256.pub.kid }] });
    const { kid: _a, ...noKid } = p256.pub;
    const { kid: _b, ...rsaNoKid } = rsa2048.pub;
    await refusal({ keys: [noKid, rsaNoKid] });
  });
});

describe('appliance keys are inline only (E4)', () => {
  let server: Server;
  let url: string;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [p256.pub] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('refuses a JWK Set given as a URL, or with a jwks_uri in place of keys', async () => {
    await refusal(`${url}/jwks.json`);
    await refusal({ jwks_uri: `${url}/jwks.json` });
    expect(hits).toEqual([]);
  });

  it('keeps no URL a key names (x5u, jku) and fetches none', async () => {
    const keys = await validateJwks({
      keys: [{ ...p256.pub, x5u: `${url}/cert.pem`, jku: `${url}/jwks.json` }],
    });
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(JSON.stringify(keys)).not.toContain(url);
    expect(hits).toEqual([]);
  });
});
