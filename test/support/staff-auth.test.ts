import { EntraUnavailable } from '../../src/adapters/entra/port.js';
import { exportJWK, generateKeyPair, createLocalJWKSet, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudNamed, PUBLIC_CLOUD } from '../../src/cloud/clouds.js';
import {
  createStaffAuthenticator,
  StaffAuthError,
  type StaffAuthenticator,
} from '../../src/support/staff-auth.js';

const authorityHost = 'https://login.example.test';
const vendor = '5f3c7a1e-0b6d-4c2e-9a41-7d8e2f1b6c30';
const appId = '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250';
const audience = `api://${appId}`;

let sign: (claims: JWTPayload, opts?: { alg?: string; kid?: string; key?: 'other' }) => Promise<string>;
let auth: StaffAuthenticator;

beforeAll(async () => {
  const trusted = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({
    keys: [
      { ...(await exportJWK(trusted.publicKey)), kid: 'k1', alg: 'RS256' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec' },
    ],
  });
  auth = createStaffAuthenticator(
    { authorityHost, issuers: PUBLIC_CLOUD, vendorTenantId: vendor, audiences: [audience, appId] },
    jwks,
  );
  sign = (claims, opts = {}) => {
    const key =
      opts.alg === 'ES256' ? ec.privateKey : opts.key === 'other' ? other.privateKey : trusted.privateKey;
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: opts.alg ?? 'RS256',
        kid: opts.kid ?? (opts.alg === 'ES256' ? 'ec' : 'k1'),
        typ: 'JWT',
      })
      .sign(key);
  };
});

const now = () => Math.floor(Date.now() / 1000);
const v1 = (extra: JWTPayload = {}): JWTPayload => ({
  iss: `https://sts.windows.net/${vendor}/`,
  aud: audience,
  tid: vendor,
  oid: '11111111-2222-3333-4444-555555555555',
  upn: 'support.lead@northwind-telephony.example',
  roles: ['Broker.Admin'],
  iat: now(),
  nbf: now(),
  exp: now() + 3600,
  ver: '1.0',
  ...extra,
});
const v2 = (extra: JWTPayload = {}): JWTPayload => ({
  ...v1(),
  iss: `https://login.microsoftonline.com/${vendor}/v2.0`,
  aud: appId,
  ver: '2.0',
  upn: undefined,
  preferred_username: 'agent@x',
  ...extra,
});

async function failure(token: string | null, role: 'Broker.Read' | 'Broker.Admin' = 'Broker.Read') {
  try {
    await auth.authenticate(token === null ? null : `Bearer ${token}`, role);
  } catch (err) {
    if (err instanceof StaffAuthError) return { failure: err.failure, message: err.message };
    throw err;
  }
  return undefined;
}

describe('support API staff tokens (SPEC.md "Vendor support")', () => {
  it('accepts a v1 token (sts.windows.net issuer, App ID URI audience)', async () => {
    const p = await auth.authenticate(`Bearer ${await sign(v1())}`, 'Broker.Admin');
    expect(p).toEqual({
      objectId: '11111111-2222-3333-4444-555555555555',
      displayName: 'support.lead@northwind-telephony.example',
      roles: ['Broker.Admin'],
    });
  });

  it('accepts a v2 token (authority/v2.0 issuer, client id audience)', async () => {
    const p = await auth.authenticate(`bearer ${await sign(v2({ roles: ['Broker.Read'] }))}`, 'Broker.Read');
    expect(p.displayName).toBe('agent@x');
  });

  it('Broker.Admin includes Broker.Read; Broker.Read alone cannot make changes (403)', async () => {
    expect((await auth.authenticate(`Bearer ${await sign(v1())}`, 'Broker.Read')).roles).toEqual([
      'Broker.Admin',
    ]);
    expect(await failure(await sign(v1({ roles: ['Broker.Read'] })), 'Broker.Admin')).toEqual({
      failure: 'forbidden',
      message: 'The token lacks the app role Broker.Admin.',
    });
    expect((await failure(await sign(v1({ roles: undefined }))))?.failure).toBe('forbidden');
    expect((await failure(await sign(v1({ roles: ['Other.Role'] }))))?.failure).toBe('forbidden');
  });

  it.each([
    [
      'another tenant',
      {
        iss: 'https://sts.windows.net/c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90/',
        tid: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
      },
      'unexpected "iss" claim',
    ],
    [
      'the vendor issuer but another tid',
      { tid: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90' },
      'not issued by the vendor tenant',
    ],
    ['another audience', { aud: 'https://graph.microsoft.com' }, 'unexpected "aud" claim'],
    ['an expired token', { exp: now() - 120, iat: now() - 4000, nbf: now() - 4000 }, 'expired'],
    ['a token not valid yet', { nbf: now() + 600 }, 'not valid yet'],
    [
      'a v2 issuer of the authority host rather than of the cloud',
      { iss: `${authorityHost}/${vendor}/v2.0` },
      'unexpected "iss" claim',
    ],
    [
      "another cloud's v2 issuer",
      { iss: cloudNamed('AzureUSGovernment').v2Issuer(vendor) },
      'unexpected "iss" claim',
    ],
  ])('refuses %s with 401 (invalid)', async (_, extra, message) => {
    const f = await failure(await sign(v1(extra as JWTPayload)));
    expect(f?.failure).toBe('invalid');
    expect(f?.message).toContain(message);
  });

  it('refuses a bad signature, an unknown key, another algorithm and an unsigned token', async () => {
    expect((await failure(await sign(v1(), { key: 'other' })))?.message).toBe(
      'The token signature is not valid.',
    );
    expect((await failure(await sign(v1(), { kid: 'nope' })))?.failure).toBe('invalid');
    expect((await failure(await sign(v1(), { alg: 'ES256' })))?.message).toBe(
      'The token is signed with an algorithm that is not accepted.',
    );
    const [h, p] = (await sign(v1())).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    expect((await failure(none))?.failure).toBe('invalid');
    expect((await failure(`${h}.${p}.AAAA`))?.failure).toBe('invalid');
  });

  it('refuses a missing or malformed Authorization header', async () => {
    expect((await failure(null))?.failure).toBe('missing');
    await expect(auth.authenticate('Basic dXNlcjpwYXNz', 'Broker.Read')).rejects.toMatchObject({
      failure: 'malformed',
    });
    await expect(auth.authenticate('Bearer', 'Broker.Read')).rejects.toMatchObject({ failure: 'malformed' });
    await expect(auth.authenticate('Bearer not a token', 'Broker.Read')).rejects.toMatchObject({
      failure: 'malformed',
    });
  });

  it('reports unreachable identity-provider keys as an Entra outage, not as a bad token', async () => {
    const unreachable = createStaffAuthenticator({
      authorityHost: 'https://127.0.0.1:9',
      issuers: PUBLIC_CLOUD,
      vendorTenantId: vendor,
      audiences: [audience],
    });
    await expect(
      unreachable.authenticate(`Bearer ${await sign(v1())}`, 'Broker.Read'),
    ).rejects.toBeInstanceOf(EntraUnavailable);
  });
});
