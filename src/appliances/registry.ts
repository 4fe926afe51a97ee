/**
 * The appliance registry (SPEC.md `POST/GET/DELETE /api/appliances…`): registration with a broker-issued
 * client secret or public JWKs, rotation with a grace period, revocation, and assignment to a tenant by
 * support staff — each audited. Secrets exist in clear only in the answer that shows them once.
 * @module
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import { endedProfiles, profilesSplitAcrossBundles, type Profiles } from '../profiles/profiles.js';
import type { Appliance, ApplianceStore, SecretVerifier } from './appliance-store.js';

/** How long a rotated-out secret keeps working, so that a PBX can be reconfigured without an outage. */
export const SECRET_ROTATION_GRACE_SECONDS = 24 * 3_600;
/** Algorithms accepted for private_key_jwt: RS256, PS256, ES256. */
export const ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
const MAX_KEYS = 5;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const SECRET_PURPOSE = 'appliance-client-secret';

export class RegistryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryInputError';
  }
}

export interface RegistryDeps {
  readonly appliances: ApplianceStore;
  readonly keys: BrokerKeys;
  readonly audit: AuditLog;
  readonly profiles: Profiles;
  readonly now: () => Date;
}

export interface RegistrationInput {
  readonly customerRef: string;
  readonly tenantId: string | null;
  readonly profiles: readonly string[];
  readonly method: 'client_secret' | 'private_key_jwt' | 'none';
  readonly jwks?: unknown;
}

/** A new client secret: 256 random bits, base64url, with a prefix that secret scanners can recognise. */
export function newClientSecret(): string {
  return `cbs_${randomBytes(32).toString('base64url')}`;
}

export async function secretVerifier(keys: BrokerKeys, secret: string): Promise<string> {
  return keys.derive(SECRET_PURPOSE, secret);
}

/**
 * Until when `secret` stays valid (ms since the epoch; Infinity for a secret without end), or undefined when
 * it matches no verifier valid at `now`. Every verifier is compared, in constant time each.
 */
export async function matchClientSecret(
  keys: BrokerKeys,
  appliance: Appliance,
  secret: string,
  now: Date,
): Promise<number | undefined> {
  if (secret.length === 0 || secret.length > 256) return undefined;
  const candidate = Buffer.from(await secretVerifier(keys, secret));
  let validUntil: number | undefined;
  for (const v of appliance.secrets) {
    const until = v.validUntil === null ? Infinity : Date.parse(v.validUntil);
    if (until <= now.getTime()) continue;
    const stored = Buffer.from(v.verifier);
    // Compare every verifier (no early exit) so the time taken does not tell which one matched.
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate))
      validUntil = Math.max(validUntil ?? 0, until);
  }
  return validUntil;
}

export async function registerAppliance(
  deps: RegistryDeps,
  input: RegistrationInput,
  actor: AuditActor,
): Promise<{ appliance: Appliance; clientSecret?: string }> {
  const unknown = input.profiles.filter((p) => !deps.profiles.get(p));
  if (input.profiles.length === 0 || unknown.length) {
    throw new RegistryInputError(
      `profiles must name known profiles (${[...deps.profiles.profiles.keys()].join(', ')}).`,
    );
  }
  const split = profilesSplitAcrossBundles(deps.profiles, input.profiles);
  if (split.length) throw new RegistryInputError(split.join(' '));
  const ended = endedProfiles(deps.profiles, input.profiles, deps.now());
  if (ended.length) throw new RegistryInputError(ended.join(' '));
  const now = deps.now().toISOString();
  let secrets: SecretVerifier[] = [];
  let jwks: JWK[] = [];
  let clientSecret: string | undefined;
  if (input.method === 'none') {
    // A public client holds no credential: only a user's sign-in (the device-code flow) gives it anything,
    // and only for that user, so its tenant is named now and every profile must be delegated.
    if (input.jwks !== undefined)
      throw new RegistryInputError('jwks is only for auth.method "private_key_jwt".');
    if (input.tenantId === null)
      throw new RegistryInputError('tenantId is required for auth.method "none" (a public client).');
    const appOnly = input.profiles.filter((p) => deps.profiles.get(p)?.kind !== 'delegated');
    if (appOnly.length)
      throw new RegistryInputError(
        `auth.method "none" (a public client) may have delegated profiles only; ${appOnly.join(', ')} ${appOnly.length > 1 ? 'are' : 'is'} app-only.`,
      );
  } else if (input.method === 'client_secret') {
    if (input.jwks !== undefined)
      throw new RegistryInputError('jwks is only for auth.method "private_key_jwt".');
    clientSecret = newClientSecret();
    secrets = [{ verifier: await secretVerifier(deps.keys, clientSecret), createdAt: now, validUntil: null }];
  } else {
    jwks = await validateJwks(input.jwks);
  }
  const appliance: Appliance = {
    clientId: randomUUID(),
    customerRef: input.customerRef,
    tenantId: input.tenantId,
    profiles: [...input.profiles],
    authMethod: input.method,
    secrets,
    jwks,
    status: 'active',
    createdAt: now,
    createdBy: actor.name ?? actor.id,
    revokedAt: null,
    lastSeenAt: null,
    tokenCount: 0,
  };
  await deps.appliances.create(appliance);
  await deps.audit.write({
    action: 'appliance.registered',
    tenantId: appliance.tenantId,
    actor,
    details: {
      clientId: appliance.clientId,
      customerRef: appliance.customerRef,
      authMethod: appliance.authMethod,
      profiles: appliance.profiles,
      assignedByStaff: appliance.tenantId !== null,
    },
  });
  return clientSecret ? { appliance, clientSecret } : { appliance };
}

export async function revokeAppliance(
  deps: RegistryDeps,
  appliance: Appliance,
  actor: AuditActor,
): Promise<Appliance> {
  // A retry of a revocation whose journal entry may have failed: the unchanged record is written
  // again, so the journaled store announces it again and every instance drops its copy.
  if (appliance.status === 'revoked') return deps.appliances.update(appliance);
  const updated = await deps.appliances.update({
    ...appliance,
    status: 'revoked',
    revokedAt: deps.now().toISOString(),
  });
  await deps.audit.write({
    action: 'appliance.revoked',
    tenantId: appliance.tenantId,
    actor,
    details: { clientId: appliance.clientId },
  });
  return updated;
}

export async function rotateSecret(
  deps: RegistryDeps,
  appliance: Appliance,
  actor: AuditActor,
): Promise<{ clientSecret: string; previousSecretValidUntil: string }> {
  if (appliance.authMethod !== 'client_secret')
    throw new RegistryInputError(
      appliance.authMethod === 'none'
        ? 'This appliance is a public client; it has no client secret.'
        : 'This appliance authenticates with private_key_jwt; it has no client secret.',
    );
  if (appliance.status === 'revoked') throw new RegistryInputError('This appliance is revoked.');
  const now = deps.now();
  const graceEnd = new Date(now.getTime() + SECRET_ROTATION_GRACE_SECONDS * 1000).toISOString();
  const clientSecret = newClientSecret();
  // Secrets already in their grace period keep their end; the current one gets one now; expired ones go.
  const kept = appliance.secrets
    .filter((s) => s.validUntil === null || Date.parse(s.validUntil) > now.getTime())
    .map((s) => (s.validUntil === null ? { ...s, validUntil: graceEnd } : s));
  await deps.appliances.update({
    ...appliance,
    secrets: [
      ...kept,
      {
        verifier: await secretVerifier(deps.keys, clientSecret),
        createdAt: now.toISOString(),
        validUntil: null,
      },
    ],
  });
  await deps.audit.write({
    action: 'appliance.secret_rotated',
    tenantId: appliance.tenantId,
    actor,
    details: { clientId: appliance.clientId, previousSecretValidUntil: graceEnd },
  });
  return { clientSecret, previousSecretValidUntil: graceEnd };
}

/** A JWK Set given inline (RFC 7591 §2): public keys only, of the accepted algorithms, at most five. */
export async function validateJwks(value: unknown): Promise<JWK[]> {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new RegistryInputError('auth.jwks must be a JWK Set: {"keys": [...]} (RFC 7591 §2).');
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_KEYS)
    throw new RegistryInputError(`auth.jwks must hold 1 to ${MAX_KEYS} keys.`);
  const kids = new Set<string>();
  const out: JWK[] = [];
  for (const [i, k] of keys.entries()) {
    const at = `auth.jwks.keys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k))
      throw new RegistryInputError(`${at} must be a JWK object.`);
    const jwk = k as JWK;
    if (PRIVATE_MEMBERS.some((m) => m in jwk))
      throw new RegistryInputError(`${at} contains private key material: register the public key only.`);
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') throw new RegistryInputError(`${at}.kty must be RSA or EC.`);
    const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256');
    if (!(ASSERTION_ALGORITHMS as readonly string[]).includes(alg))
      throw new RegistryInputError(`${at}.alg must be one of ${ASSERTION_ALGORITHMS.join(', ')}.`);
    if (jwk.kty === 'EC' && (alg !== 'ES256' || jwk.crv !== 'P-256'))
      throw new RegistryInputError(`${at}: an EC key must be P-256 with ES256.`);
    if (jwk.kty === 'RSA' && alg === 'ES256')
      throw new RegistryInputError(`${at}: an RSA key cannot use ES256.`);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw new RegistryInputError(`${at}.use must be "sig".`);
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 200 || kids.has(jwk.kid))) {
      throw new RegistryInputError(`${at}.kid must be a unique string.`);
    }
    if (jwk.kid) kids.add(jwk.kid);
    try {
      await importJWK({ ...jwk, alg }, alg);
    } catch {
      throw new RegistryInputError(`${at} is not a usable ${alg} public key.`);
    }
    if (jwk.kty === 'RSA' && Buffer.from(String(jwk.n), 'base64url').length < 256) {
      throw new RegistryInputError(`${at}: RSA keys must be at least 2048 bits.`);
    }
    const { kty, n, e, crv, x, y, kid } = jwk;
    out.push({
      kty,
      alg,
      use: 'sig',
      ...(n ? { n, e } : {}),
      ...(crv ? { crv, x, y } : {}),
      ...(kid ? { kid } : {}),
    });
  }
  if (keys.length > 1 && kids.size !== keys.length)
    throw new RegistryInputError('auth.jwks: every key needs a kid when there are several.');
  return out;
}
