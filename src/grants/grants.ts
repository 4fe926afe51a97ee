/**
 * Making and ending mailbox grants (src/grants/grant-store.ts): what support may ask for, checked before anything
 * is stored. A grant binds one appliance of one tenant to delegated profiles the appliance is allowed, for a
 * mailbox of that tenant's verified domains (or whoever signs in with the link), and is made only for a tenant
 * whose consent is in place (the admin's consent covers the delegated scopes for every user:
 * src/profiles/registration.ts).
 * @module
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { newConsentCode } from '../consent/onboardings.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import type { BundleApps } from '../credentials/bundle-apps.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { Profiles } from '../profiles/profiles.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { DeviceCodes, GrantFlow, MailboxGrant, MailboxGrantStore } from './grant-store.js';

/** How long a grant's link stays usable: as a consent link's (src/consent/onboardings.ts). */
export const GRANT_LINK_TTL_SECONDS = 7 * 86_400;

/**
 * A device code's life and the polling interval, Entra's defaults: "the user has 15 minutes to sign in", and
 * `interval` 5 in its examples (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
 */
export const DEVICE_CODE_TTL_SECONDS = 900;
export const DEVICE_POLL_INTERVAL_SECONDS = 5;

/**
 * User codes: 8 characters of RFC 8628 §6.1's consonant alphabet (no vowels: no words; no digits or lookalikes),
 * 20^8 ≈ 2.6 × 10^10 codes, shown as XXXX-XXXX; guessing is bounded by the code's 15 minutes and the
 * verification page's throttle per address (src/grants/device-flow.ts).
 */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** A user code as shown: XXXX-XXXX of USER_CODE_ALPHABET (also the enrollments': src/appliances/enrollment.ts). */
export function newUserCode(): string {
  const chars = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

function newDeviceCodes(): DeviceCodes {
  return { deviceCode: randomBytes(32).toString('base64url'), userCode: newUserCode() };
}

/** Tenant states in which a user's grant can work: the consent is proven (all or part of it). */
const GRANTABLE = new Set(['active', 'degraded']);

/** Support asked for a grant that cannot be made; `status` 400 (bad input), 404 (unknown) or 409 (state). */
export class GrantRefused extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'GrantRefused';
  }
}

export interface GrantDeps {
  readonly grants: MailboxGrantStore;
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly profiles: Profiles;
  /** The app the grant's user signs in to: its profiles' bundle's (src/credentials/bundle-apps.ts). */
  readonly apps: Pick<BundleApps, 'forProfiles'>;
  readonly audit: AuditLog;
  readonly now: () => Date;
  readonly publicUrl: string;
}

export interface GrantRequest {
  readonly tenantId: string;
  readonly applianceId: string;
  readonly profiles: readonly string[];
  /** Already a valid address (src/support/mailbox-address.ts); compared case-insensitively. */
  readonly mailbox?: string;
}

export async function createMailboxGrant(
  deps: GrantDeps,
  request: GrantRequest,
  actor: AuditActor,
  flow: GrantFlow = 'link',
): Promise<{ grant: MailboxGrant; consentUrl: string; device?: DeviceCodes }> {
  const tenantId = request.tenantId.toLowerCase();
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new GrantRefused(404, `No tenant ${tenantId}.`);
  if (!GRANTABLE.has(tenant.status))
    throw new GrantRefused(
      409,
      `Tenant ${tenantId} is ${tenant.status}: a mailbox grant needs its consent in place (active or degraded).`,
    );
  const appliance = await deps.appliances.get(request.applianceId.toLowerCase());
  if (!appliance || appliance.status !== 'active' || appliance.tenantId !== tenantId)
    throw new GrantRefused(
      404,
      `No active appliance ${request.applianceId.toLowerCase()} in tenant ${tenantId}.`,
    );
  // A public client can authenticate nowhere but by its device code's poll: a link's handle would reach it never.
  if (flow === 'link' && appliance.authMethod === 'none')
    throw new GrantRefused(
      409,
      `Appliance ${appliance.clientId} is a public client: it asks for a mailbox grant itself, by the device-code flow.`,
    );
  const problems: string[] = [];
  for (const name of request.profiles) {
    const profile = deps.profiles.get(name);
    if (!profile) problems.push(`${name} is not a profile`);
    else if (profile.kind !== 'delegated')
      problems.push(`${name} is an application profile (its tokens need no user's sign-in)`);
    else if (!appliance.profiles.includes(name)) problems.push(`the appliance is not allowed ${name}`);
  }
  // A user's refresh token is one app's (the client id that redeemed the code): one bundle per grant.
  const bundles = deps.profiles.bundlesFor(request.profiles);
  if (bundles.length > 1)
    problems.push(
      `${bundles
        .map(
          (b) =>
            `${b.profiles
              .filter((p) => request.profiles.includes(p.name))
              .map((p) => p.name)
              .join(', ')} (bundle ${b.name})`,
        )
        .join(' and ')} are signed in to through different apps: ask for one grant per bundle`,
    );
  if (problems.length) throw new GrantRefused(400, `profiles: ${problems.join('; ')}.`);
  const mailbox = request.mailbox?.toLowerCase() ?? null;
  if (mailbox !== null) {
    const domain = mailbox.slice(mailbox.lastIndexOf('@') + 1);
    if (!tenant.verifiedDomains.some((d) => d.toLowerCase() === domain))
      throw new GrantRefused(
        400,
        `mailbox: its domain is not a verified domain of the tenant (${tenant.verifiedDomains.join(', ') || 'none recorded'}).`,
      );
  }
  const now = deps.now();
  // A link's code as a consent link's: 128 random bits, base64url, kept only as its hash.
  const code = newConsentCode();
  const grant: MailboxGrant = {
    id: randomUUID(),
    tenantId,
    applianceId: appliance.clientId,
    profiles: [...request.profiles],
    mailbox,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt: new Date(
      now.getTime() + (flow === 'device_code' ? DEVICE_CODE_TTL_SECONDS : GRANT_LINK_TTL_SECONDS) * 1000,
    ).toISOString(),
    createdBy: actor.name ?? actor.id,
    user: null,
    error: null,
    refreshToken: null,
    refreshTokenKeptAt: null,
    handle: null,
    handleUsedAt: null,
    flow,
    // Kept: the user's refresh token is this app's, whichever bundle the profiles file puts them in later.
    app: (deps.apps.forProfiles(request.profiles)[0] ?? null)?.clientId ?? null,
  };
  const device = flow === 'device_code' ? newDeviceCodes() : undefined;
  await deps.grants.create(grant, code, device);
  await deps.audit.write({
    action: 'mailbox_grant.created',
    tenantId,
    actor,
    target: grant.id,
    details: { applianceId: grant.applianceId, profiles: grant.profiles, mailbox, flow },
  });
  return { grant, consentUrl: `${deps.publicUrl}/mailbox-grants/${code}`, ...(device ? { device } : {}) };
}

/** Ends a grant for good (support): `revoked`, audited; the refresh token it kept is erased with it. */
export async function revokeMailboxGrant(
  deps: Pick<GrantDeps, 'grants' | 'audit' | 'now'>,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<MailboxGrant> {
  const grant = await deps.grants.get(tenantId, id);
  if (!grant) throw new GrantRefused(404, `No mailbox grant ${id} in tenant ${tenantId.toLowerCase()}.`);
  if (grant.status === 'revoked') return grant;
  const revoked = await deps.grants.update({
    ...grant,
    status: 'revoked',
    refreshToken: null,
    refreshTokenKeptAt: null,
    handle: null,
  });
  await deps.audit.write({
    action: 'mailbox_grant.revoked',
    tenantId: grant.tenantId,
    actor,
    target: grant.id,
    details: { applianceId: grant.applianceId },
  });
  return revoked;
}
