/**
 * Credentials expire — a client secret after at most 24 months — and nothing may break silently when they do
 *. A daily timer flags every credential the broker holds that ends within 30 days: the home app's
 * (its Key Vault secret's expiry, or its certificate's end) in the audit log and in `/api/health`, and each
 * tenant's own app credential ("bring your own app") on the tenant (`degraded`, or `error` once expired, with a
 * remediation) and in the audit log.
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HomeAppCredentialSource } from '../config.js';
import { nextTenant } from '../tenants/lifecycle.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import { HomeAppCredentialInvalid, loadHomeAppCredential } from './home-app.js';

export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export interface ExpiryDeps {
  readonly secrets: SecretStore;
  readonly tenants: TenantStore;
  readonly audit: AuditLog;
  readonly homeAppCredential: HomeAppCredentialSource;
  /** The apps of the bundles after the first (src/credentials/bundle-apps.ts), watched as the home app's is. */
  readonly bundleCredentials?: readonly {
    readonly bundle: string;
    readonly credential: HomeAppCredentialSource;
  }[];
  readonly now: () => Date;
}

export class CredentialExpiringSoon extends Error {
  constructor(readonly expiresOn: Date) {
    super(`The home app credential expires on ${expiresOn.toISOString()}.`);
    this.name = 'CredentialExpiringSoon';
  }
}

/** Throws CredentialExpiringSoon when the home app credential ends within the warning period (health probe). */
export async function checkHomeAppCredentialExpiry(
  deps: Pick<ExpiryDeps, 'secrets' | 'homeAppCredential' | 'now'>,
): Promise<void> {
  const loaded = await loadHomeAppCredential(deps.homeAppCredential, deps.secrets);
  if (loaded.expiresOn && loaded.expiresOn.getTime() - deps.now().getTime() < EXPIRY_WARNING_DAYS * DAY_MS) {
    throw new CredentialExpiringSoon(loaded.expiresOn);
  }
}

/** Bundle apps' credentials ending within the warning period (health probe `bundleAppCredentials`). */
export class BundleCredentialExpiringSoon extends Error {
  constructor(ending: readonly { bundle: string; expiresOn: Date }[]) {
    super(
      `The app credential of ${ending.map((e) => `bundle ${e.bundle} expires on ${e.expiresOn.toISOString()}`).join(', ')}.`,
    );
    this.name = 'CredentialExpiringSoon';
  }
}

/**
 * The bundles (after the first) whose app credential ends within the warning period, with when; a credential
 * that cannot be read is not a finding here (the start check and the token requests report it).
 */
export async function expiringBundleCredentials(
  deps: Pick<ExpiryDeps, 'secrets' | 'bundleCredentials' | 'now'>,
): Promise<{ bundle: string; expiresOn: Date }[]> {
  const found: { bundle: string; expiresOn: Date }[] = [];
  for (const { bundle, credential } of deps.bundleCredentials ?? []) {
    try {
      await checkHomeAppCredentialExpiry({ ...deps, homeAppCredential: credential });
    } catch (err) {
      if (err instanceof CredentialExpiringSoon) found.push({ bundle, expiresOn: err.expiresOn });
      else if (!(err instanceof HomeAppCredentialInvalid)) throw err;
    }
  }
  return found;
}

/** The daily timer's work; returns what it flagged. */
export async function flagExpiringCredentials(
  deps: ExpiryDeps,
): Promise<{ homeApp: boolean; bundles: string[]; tenants: string[] }> {
  const now = deps.now();
  const system = { kind: 'system' as const, id: 'broker' };
  let homeApp = false;
  try {
    await checkHomeAppCredentialExpiry(deps);
  } catch (err) {
    if (!(err instanceof CredentialExpiringSoon)) throw err;
    homeApp = true;
    await deps.audit.write({
      action: 'credential.expiring',
      tenantId: null,
      actor: system,
      details: {
        credential: 'home-app',
        expiresOn: err.expiresOn.toISOString(),
        daysLeft: Math.floor((err.expiresOn.getTime() - now.getTime()) / DAY_MS),
      },
    });
  }

  const bundles = await expiringBundleCredentials(deps);
  for (const { bundle, expiresOn } of bundles)
    await deps.audit.write({
      action: 'credential.expiring',
      tenantId: null,
      actor: system,
      details: {
        credential: 'bundle-app',
        bundle,
        expiresOn: expiresOn.toISOString(),
        daysLeft: Math.floor((expiresOn.getTime() - now.getTime()) / DAY_MS),
      },
    });

  const flagged: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await deps.tenants.list({ top: 200, continuationToken });
    for (const tenant of page.items) {
      const credential = tenant.appCredential;
      if (!credential || tenant.status === 'offboarded') continue;
      const left = Date.parse(credential.expiresOn) - now.getTime();
      if (left >= EXPIRY_WARNING_DAYS * DAY_MS) continue;
      flagged.push(tenant.tenantId);
      const expired = left <= 0;
      // src/tenants/lifecycle.ts `expiry-*`: unchanged when flagged already.
      const change = nextTenant(
        tenant,
        { kind: expired ? 'credential_expired' : 'credential_expiring' },
        now,
      );
      if (change.next === 'unchanged') continue;
      await deps.tenants.replace(change.next);
      if (change.audit) {
        await deps.audit.write({
          action: change.audit,
          tenantId: tenant.tenantId,
          actor: system,
          details: {
            credential: 'tenant-app',
            clientId: credential.clientId,
            expiresOn: credential.expiresOn,
            expired,
          },
        });
      }
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return { homeApp, bundles: bundles.map((b) => b.bundle), tenants: flagged };
}
