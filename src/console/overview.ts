/**
 * What the support console's overview shows (issue 22), read from the stores the support API reads: tenants by
 * status and those needing someone, appliances seen, tokens issued per hour, credentials ending within 30 days
 * (each bundle app's in Key Vault, and each tenant's own app credential) and mailbox grants whose user must sign
 * in again. Bounded: at most OVERVIEW_LIMIT tenants and appliances, and the grants of at most GRANT_TENANTS
 * tenants with delegated profiles, are read for one overview; beyond that the page says its figures are partial.
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import type { UsageHours } from '../appliances/usage-hours.js';
import type { BundleApps } from '../credentials/bundle-apps.js';
import { EXPIRY_WARNING_DAYS } from '../credentials/expiry.js';
import { loadHomeAppCredential } from '../credentials/home-app.js';
import type { MailboxGrant, MailboxGrantStore } from '../grants/grant-store.js';
import {
  TENANT_STATUSES,
  type TenantRecord,
  type TenantStatus,
  type TenantStore,
} from '../tenants/tenant-store.js';

/** At most this many tenants and appliances are read for one overview (pages of 1,000). */
export const OVERVIEW_LIMIT = 5_000;
/** The grants of at most this many tenants with delegated profiles are read for one overview. */
const GRANT_TENANTS = 200;
/** A tenant still being verified after this long needs someone (the background re-checks go on for 24 h). */
const PENDING_LONG_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface OverviewDeps {
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly mailboxGrants: MailboxGrantStore;
  readonly usageHours: UsageHours;
  readonly secrets: SecretStore;
  readonly apps: Pick<BundleApps, 'all'>;
  readonly now: () => Date;
}

export interface Overview {
  readonly counts: Record<TenantStatus, number>;
  readonly attention: TenantRecord[];
  readonly appliancesSeen: { hour: number; day: number; total: number };
  readonly perHour: Map<number, number>;
  readonly credentials: { what: string; endsOn: string; tenantId?: string }[];
  readonly reauth: { tenant: TenantRecord; grant: MailboxGrant }[];
  readonly partial: boolean;
}

export async function readOverview(deps: OverviewDeps): Promise<Overview> {
  const now = deps.now().getTime();
  let partial = false;
  const tenants: TenantRecord[] = [];
  let token: string | undefined;
  do {
    const page = await deps.tenants.list({ top: 1000, ...(token ? { continuationToken: token } : {}) });
    tenants.push(...page.items);
    token = page.continuationToken;
  } while (token && tenants.length < OVERVIEW_LIMIT);
  if (token) partial = true;

  const counts = Object.fromEntries(TENANT_STATUSES.map((s) => [s, 0])) as Record<TenantStatus, number>;
  for (const t of tenants) counts[t.status]++;
  const changedAt = (t: TenantRecord) => Date.parse(t.lastError?.at ?? t.consentedAt ?? '') || 0;
  const attention = tenants
    .filter(
      (t) =>
        t.status === 'revoked' ||
        t.status === 'degraded' ||
        t.status === 'error' ||
        (t.status === 'pending_verification' &&
          now - Date.parse(t.verification?.since ?? t.consentedAt ?? '') > PENDING_LONG_MS),
    )
    .sort((a, b) => changedAt(b) - changedAt(a))
    .slice(0, 50);

  const appliancesSeen = { hour: 0, day: 0, total: 0 };
  token = undefined;
  let read = 0;
  do {
    const page = await deps.appliances.list({ top: 1000, ...(token ? { continuationToken: token } : {}) });
    read += page.items.length;
    for (const a of page.items) {
      if (a.status !== 'active') continue;
      appliancesSeen.total++;
      const last = a.lastSeenAt ? now - Date.parse(a.lastSeenAt) : Infinity;
      if (last <= 3_600_000) appliancesSeen.hour++;
      if (last <= DAY_MS) appliancesSeen.day++;
    }
    token = page.continuationToken;
  } while (token && read < OVERVIEW_LIMIT);
  if (token) partial = true;

  const [perHour, credentials, reauth] = await Promise.all([
    deps.usageHours.since(now - 7 * DAY_MS),
    endingCredentials(deps, tenants, now),
    grantsNeedingSignIn(deps, tenants).then((r) => {
      if (r.partial) partial = true;
      return r.grants;
    }),
  ]);
  return { counts, attention, appliancesSeen, perHour, credentials, reauth, partial };
}

async function endingCredentials(deps: OverviewDeps, tenants: readonly TenantRecord[], now: number) {
  const until = now + EXPIRY_WARNING_DAYS * DAY_MS;
  const out: { what: string; endsOn: string; tenantId?: string }[] = [];
  await Promise.all(
    deps.apps.all.map(async (app) => {
      const what = app.bundle.home
        ? 'The home app credential'
        : `The credential of bundle app "${app.bundle.name}"`;
      try {
        const loaded = await loadHomeAppCredential(app.credential, deps.secrets);
        if (loaded.expiresOn && loaded.expiresOn.getTime() <= until)
          out.push({ what, endsOn: loaded.expiresOn.toISOString() });
      } catch {
        // Unreadable, missing or expired in Key Vault: /api/health names it; the overview shows ends it can read.
      }
    }),
  );
  for (const t of tenants) {
    const ends = t.appCredential?.expiresOn;
    if (t.status !== 'offboarded' && ends && Date.parse(ends) <= until)
      out.push({ what: `The own app of ${t.displayName ?? t.tenantId}`, endsOn: ends, tenantId: t.tenantId });
  }
  return out.sort((a, b) => Date.parse(a.endsOn) - Date.parse(b.endsOn));
}

async function grantsNeedingSignIn(deps: OverviewDeps, tenants: readonly TenantRecord[]) {
  // Any connected tenant may have grants (the admin's consent covers the registration's delegated scopes,
  // whatever profiles the onboarding named): the most recently used first, 20 partitions read at a time.
  const connected = tenants
    .filter((t) => t.status === 'active' || t.status === 'degraded')
    .sort((a, b) => (Date.parse(b.lastTokenAt ?? '') || 0) - (Date.parse(a.lastTokenAt ?? '') || 0));
  const grants: { tenant: TenantRecord; grant: MailboxGrant }[] = [];
  const read = connected.slice(0, GRANT_TENANTS);
  for (let i = 0; i < read.length; i += 20) {
    const pages = await Promise.all(
      read.slice(i, i + 20).map(async (tenant) => ({
        tenant,
        page: await deps.mailboxGrants.list(tenant.tenantId, { top: 100 }),
      })),
    );
    for (const { tenant, page } of pages)
      for (const grant of page.items) if (grant.status === 'reauth_required') grants.push({ tenant, grant });
  }
  return { grants, partial: connected.length > GRANT_TENANTS };
}
