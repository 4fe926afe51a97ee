/**
 * Customer tenants as the broker records them (SPEC.md `GET /api/tenants/{tenantId}`), in the `tenants`
 * table: partition `tenant`, row key the tenant id, structured fields as JSON text columns. The consent flow
 * writes them; the support API reads them.
 * @module
 */
import { updateRows } from '../adapters/tables/bulk-update.js';
import { RowChanged, type StoredRow, type Table, type TableStorage } from '../adapters/tables/port.js';

export type TenantStatus =
  'pending_verification' | 'active' | 'degraded' | 'revoked' | 'error' | 'offboarded';
export const TENANT_STATUSES: readonly TenantStatus[] = [
  'pending_verification',
  'active',
  'degraded',
  'revoked',
  'error',
  'offboarded',
];

export interface TenantError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
  readonly remediation: string;
}

export interface TenantRecord {
  readonly tenantId: string;
  readonly status: TenantStatus;
  readonly displayName: string | null;
  readonly verifiedDomains: readonly string[];
  readonly customerRefs: readonly string[];
  readonly consentedAt: string | null;
  /** Granted app role values by resource scope. */
  readonly grantedRoles: Readonly<Record<string, readonly string[]>>;
  /** Missing app role values by profile name. */
  readonly missingRoles: Readonly<Record<string, readonly string[]>>;
  readonly lastTokenAt: string | null;
  readonly lastError: TenantError | null;
  /** The home app's service principal in this tenant (the `oid` of its app-only tokens). */
  readonly servicePrincipalId: string | null;
  /** Who granted the consent: object id and display name from the sign-in's ID token. */
  readonly consentedBy: { readonly objectId: string; readonly displayName: string } | null;
  /** Profiles the tenant consented for (union over its onboardings). */
  readonly profiles: readonly string[];
  /** While `pending_verification`: when the re-checks started, how many ran, when the next is due. */
  readonly verification: {
    readonly since: string;
    readonly attempts: number;
    readonly nextCheckAt: string;
    /** The onboarding that is marked consented once the proof succeeds. */
    readonly onboardingId?: string;
  } | null;
  /**
   * What each bundle app's consent granted here, by the app's client id (src/credentials/bundle-apps.ts);
   * `grantedRoles` and `servicePrincipalId` above are their union and the first app's. Undefined on a record
   * written before bundles: its grants are the home app's ({@link grantsOf}).
   */
  readonly apps?: Readonly<Record<string, AppGrants>>;
  /** "Bring your own app": the customer's own app registration used instead of the home app (no secret here). */
  readonly appCredential?: { readonly clientId: string; readonly expiresOn: string } | null;
  readonly etag?: string;
}

/** One app's consent in a tenant, as its app-only tokens showed it. */
export interface AppGrants {
  /** Granted app role values by resource scope. */
  readonly grantedRoles: Readonly<Record<string, readonly string[]>>;
  /** The app's service principal in the tenant (the `oid` of its tokens). */
  readonly servicePrincipalId: string | null;
}

/**
 * What the app `clientId` was granted in the tenant, or undefined when it has not been consented (as far as
 * the broker knows). A record written before bundles holds the home app's grants at its top level: read as
 * the home app's, until its next proof writes `apps` (the migration of those records).
 */
export function grantsOf(
  tenant: Pick<TenantRecord, 'apps' | 'grantedRoles' | 'servicePrincipalId'>,
  app: { readonly clientId: string; readonly bundle: { readonly home: boolean } },
): AppGrants | undefined {
  if (tenant.apps) return tenant.apps[app.clientId];
  return app.bundle.home
    ? { grantedRoles: tenant.grantedRoles, servicePrincipalId: tenant.servicePrincipalId }
    : undefined;
}

export interface TenantPage {
  readonly items: readonly TenantRecord[];
  readonly continuationToken?: string;
}

// A blank record is the lifecycle's to make (its status is the one before any proof).
export { newTenantRecord } from './lifecycle.js';

export interface TenantStore {
  get(tenantId: string): Promise<TenantRecord | undefined>;
  /**
   * Tenants in tenant-id order. `status`, `customerRef` and `domain` filter (exact, case-insensitive for the
   * last two); with `customerRef` or `domain` a page may hold fewer than `top` items when `status` also filters.
   */
  list(query: TenantQuery): Promise<TenantPage>;
  /** Inserts or replaces the record. */
  save(record: TenantRecord): Promise<void>;
  /** Replaces the record only if unchanged since it was read (its etag); throws RowChanged otherwise. */
  replace(record: TenantRecord): Promise<void>;
  /**
   * Moves each tenant's `lastTokenAt` forward to the given time (ms), never back, in few requests
   * (src/adapters/tables/bulk-update.ts), that column only. Returns the tenant ids it could not write.
   */
  advanceLastTokenAt(lastByTenant: ReadonlyMap<string, number>): Promise<Set<string>>;
}

export interface TenantQuery {
  readonly status?: TenantStatus;
  readonly customerRef?: string;
  readonly domain?: string;
  /** Only tenants whose consent names this profile; filtered in the page, which may then hold fewer. */
  readonly profile?: string;
  readonly top: number;
  readonly continuationToken?: string;
}

const PARTITION = 'tenant';

/**
 * Index rows in the same table, one per customer reference and per verified domain of a tenant, so that those
 * filters are one partition query each (the values sit in JSON columns that OData cannot search). Partition keys
 * may not hold `/ \\ # ?` or control characters, hence the base64url of the lower-cased value.
 */
const indexKey = (kind: 'ref' | 'domain', value: string) =>
  `${kind}:${Buffer.from(value.toLowerCase()).toString('base64url')}`;
function indexKeys(r: { customerRefs: readonly string[]; verifiedDomains: readonly string[] }): Set<string> {
  return new Set([
    ...r.customerRefs.map((v) => indexKey('ref', v)),
    ...r.verifiedDomains.map((v) => indexKey('domain', v)),
  ]);
}

export function createTenantStore(storage: TableStorage): TenantStore {
  const table: Table = storage.table('tenants');
  return {
    async get(tenantId) {
      const row = await table.get(PARTITION, tenantId.toLowerCase());
      return row ? fromRow(row) : undefined;
    },
    async list({ status, customerRef, domain, profile, top, continuationToken }) {
      const named = (t: TenantRecord) => profile === undefined || t.profiles.includes(profile);
      if (customerRef === undefined && domain === undefined) {
        const page = await table.query({
          partitionKey: PARTITION,
          where: status ? { status } : undefined,
          top,
          continuationToken,
        });
        return {
          items: page.rows.map(fromRow).filter(named),
          ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
        };
      }
      const partitionKey =
        customerRef !== undefined ? indexKey('ref', customerRef) : indexKey('domain', domain!);
      const page = await table.query({ partitionKey, top, continuationToken });
      const found = await Promise.all(page.rows.map((r) => table.get(PARTITION, r.rowKey)));
      const items = found
        .filter((r) => r !== undefined)
        .map(fromRow)
        // The index may lag a change for a moment: the tenant row decides.
        .filter(
          (t) =>
            customerRef === undefined ||
            t.customerRefs.some((c) => c.toLowerCase() === customerRef.toLowerCase()),
        )
        .filter(
          (t) =>
            domain === undefined || t.verifiedDomains.some((d) => d.toLowerCase() === domain.toLowerCase()),
        )
        .filter((t) => status === undefined || t.status === status)
        .filter(named);
      return { items, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
    },
    async save(record) {
      const before = await table.get(PARTITION, record.tenantId.toLowerCase());
      await table.upsert(toRow(record));
      await syncIndex(table, before ? fromRow(before) : undefined, record);
    },
    async advanceLastTokenAt(lastByTenant) {
      const byKey = new Map<string, number>();
      for (const [id, last] of lastByTenant)
        byKey.set(id.toLowerCase(), Math.max(last, byKey.get(id.toLowerCase()) ?? 0));
      const failed = await updateRows(table, PARTITION, [...byKey.keys()], ['lastTokenAt'], (row) => {
        const last = byKey.get(row.rowKey)!;
        const had = typeof row.lastTokenAt === 'string' ? Date.parse(row.lastTokenAt) : NaN;
        return had >= last ? undefined : { lastTokenAt: new Date(last).toISOString() };
      });
      return new Set([...lastByTenant.keys()].filter((id) => failed.has(id.toLowerCase())));
    },
    async replace(record) {
      if (!record.etag) throw new RowChanged();
      const before = await table.get(PARTITION, record.tenantId.toLowerCase());
      await table.replace(toRow(record), record.etag);
      await syncIndex(table, before ? fromRow(before) : undefined, record);
    },
  };
}

async function syncIndex(table: Table, before: TenantRecord | undefined, after: TenantRecord): Promise<void> {
  const id = after.tenantId.toLowerCase();
  const now = indexKeys(after);
  const was = before ? indexKeys(before) : new Set<string>();
  await Promise.all([
    ...[...now].filter((k) => !was.has(k)).map((k) => table.upsert({ partitionKey: k, rowKey: id })),
    ...[...was].filter((k) => !now.has(k)).map((k) => table.delete(k, id)),
  ]);
}

function toRow(r: TenantRecord) {
  return {
    partitionKey: PARTITION,
    rowKey: r.tenantId.toLowerCase(),
    status: r.status,
    displayName: r.displayName,
    verifiedDomains: JSON.stringify(r.verifiedDomains),
    customerRefs: JSON.stringify(r.customerRefs),
    consentedAt: r.consentedAt,
    grantedRoles: JSON.stringify(r.grantedRoles),
    missingRoles: JSON.stringify(r.missingRoles),
    lastTokenAt: r.lastTokenAt,
    lastError: r.lastError ? JSON.stringify(r.lastError) : null,
    servicePrincipalId: r.servicePrincipalId,
    consentedBy: r.consentedBy ? JSON.stringify(r.consentedBy) : null,
    profiles: JSON.stringify(r.profiles),
    verification: r.verification ? JSON.stringify(r.verification) : null,
    appCredential: r.appCredential ? JSON.stringify(r.appCredential) : null,
    apps: r.apps ? JSON.stringify(r.apps) : null,
  };
}

function fromRow(row: StoredRow): TenantRecord {
  const text = (k: string) => (typeof row[k] === 'string' ? (row[k] as string) : null);
  const parsed = <T>(k: string, fallback: T): T => {
    const v = text(k);
    if (v === null) return fallback;
    try {
      return JSON.parse(v) as T;
    } catch {
      return fallback;
    }
  };
  return {
    tenantId: row.rowKey,
    status: (text('status') as TenantStatus | null) ?? 'error',
    displayName: text('displayName'),
    verifiedDomains: parsed('verifiedDomains', []),
    customerRefs: parsed('customerRefs', []),
    consentedAt: text('consentedAt'),
    grantedRoles: parsed('grantedRoles', {}),
    missingRoles: parsed('missingRoles', {}),
    lastTokenAt: text('lastTokenAt'),
    lastError: parsed('lastError', null),
    servicePrincipalId: text('servicePrincipalId'),
    consentedBy: parsed('consentedBy', null),
    profiles: parsed('profiles', []),
    verification: parsed('verification', null),
    appCredential: parsed('appCredential', null),
    ...(row.apps ? { apps: parsed('apps', {}) } : {}),
    etag: row.etag,
  };
}
