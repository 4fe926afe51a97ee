/**
 * Onboardings (SPEC.md "onboarding"): an invitation to consent, bound to a customer reference and optionally
 * to one appliance, reached by a consent link whose code is stored only as its SHA-256 (the link is a
 * capability: whoever has it may start the consent). Table `onboardings`: partition `onboarding` by id,
 * partition `code` by the code's hash.
 * @module
 */
import { createHash } from 'node:crypto';
import { RowChanged, RowExists, type StoredRow, type TableStorage } from '../adapters/tables/port.js';

export type OnboardingStatus = 'pending' | 'consented' | 'failed' | 'expired';

export type OnboardingProgress = 'awaiting_confirmation' | 'pending_verification';

export interface ConfirmedBy {
  readonly objectId: string;
  readonly displayName: string;
  readonly at: string;
}

export interface OnboardingError {
  /** e.g. `AADSTS65004`, `consent_required` or `not_an_admin`. */
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface Onboarding {
  readonly id: string;
  readonly customerRef: string;
  readonly applianceId: string | null;
  readonly profiles: readonly string[];
  /** Stored status; `expired` is derived when reading (see `effectiveStatus`). */
  readonly status: OnboardingStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly createdBy: string;
  readonly tenantId: string | null;
  /**
   * Where a pending onboarding stands: `awaiting_confirmation` once its consent is proven (or accepted) but
   * the admin has not yet confirmed the appliance it binds; `pending_verification` while a consent Entra
   * accepted is being proven (directory replication).
   */
  readonly progress: OnboardingProgress | null;
  /** The admin who confirmed binding the onboarding's appliance to the tenant. */
  readonly confirmedBy: ConfirmedBy | null;
  readonly grantedRoles: Readonly<Record<string, readonly string[]>> | null;
  readonly missingRoles: Readonly<Record<string, readonly string[]>> | null;
  readonly error: OnboardingError | null;
  /**
   * The zero-touch enrollment this onboarding serves (src/appliances/enrollment.ts), whose device registered
   * `applianceId`; its tenant must be one the vendor has onboarded unless BROKER_ENROLLMENT is `open`.
   */
  readonly enrollmentId?: string | null;
  readonly etag?: string;
}

export interface OnboardingStore {
  /** Inserts a new onboarding with its code's hash. */
  create(onboarding: Onboarding, code: string): Promise<void>;
  get(id: string): Promise<Onboarding | undefined>;
  byCode(code: string): Promise<Onboarding | undefined>;
  /** Replaces the onboarding if unchanged since it was read (etag); throws RowChanged otherwise. */
  update(onboarding: Onboarding): Promise<Onboarding>;
}

const PROGRESS: readonly OnboardingProgress[] = ['awaiting_confirmation', 'pending_verification'];

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

/** `expired` once past `expiresAt` unless it already reached a final state. */
export function effectiveStatus(o: Onboarding, now: Date): OnboardingStatus {
  return o.status === 'pending' && Date.parse(o.expiresAt) <= now.getTime() ? 'expired' : o.status;
}

export function createOnboardingStore(storage: TableStorage): OnboardingStore {
  const table = storage.table('onboardings');
  return {
    async create(onboarding, code) {
      await table.insert({ partitionKey: 'onboarding', rowKey: onboarding.id, ...toColumns(onboarding) });
      try {
        await table.insert({ partitionKey: 'code', rowKey: hashCode(code), onboardingId: onboarding.id });
      } catch (err) {
        await table.delete('onboarding', onboarding.id);
        if (err instanceof RowExists) throw new Error('consent code collision', { cause: err });
        throw err;
      }
    },
    async get(id) {
      const row = await table.get('onboarding', id);
      return row ? fromRow(row) : undefined;
    },
    async byCode(code) {
      const link = await table.get('code', hashCode(code));
      if (!link || typeof link.onboardingId !== 'string') return undefined;
      const row = await table.get('onboarding', link.onboardingId);
      return row ? fromRow(row) : undefined;
    },
    async update(onboarding) {
      if (!onboarding.etag) throw new RowChanged();
      const { etag } = await table.replace(
        { partitionKey: 'onboarding', rowKey: onboarding.id, ...toColumns(onboarding) },
        onboarding.etag,
      );
      return { ...onboarding, etag };
    },
  };
}

function toColumns(o: Onboarding) {
  return {
    customerRef: o.customerRef,
    applianceId: o.applianceId,
    profiles: JSON.stringify(o.profiles),
    status: o.status,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    createdBy: o.createdBy,
    tenantId: o.tenantId,
    progress: o.progress,
    grantedRoles: o.grantedRoles ? JSON.stringify(o.grantedRoles) : null,
    missingRoles: o.missingRoles ? JSON.stringify(o.missingRoles) : null,
    error: o.error ? JSON.stringify(o.error) : null,
    confirmedBy: o.confirmedBy ? JSON.stringify(o.confirmedBy) : null,
    enrollmentId: o.enrollmentId ?? null,
  };
}

function fromRow(row: StoredRow): Onboarding {
  const text = (k: string): string | null => (typeof row[k] === 'string' ? (row[k] as string) : null);
  const json = <T>(k: string): T | null => {
    const v = text(k);
    return v === null ? null : (JSON.parse(v) as T);
  };
  return {
    id: row.rowKey,
    customerRef: text('customerRef') ?? '',
    applianceId: text('applianceId'),
    profiles: json<string[]>('profiles') ?? [],
    status: (text('status') as OnboardingStatus | null) ?? 'pending',
    createdAt: text('createdAt') ?? '',
    expiresAt: text('expiresAt') ?? '',
    createdBy: text('createdBy') ?? '',
    tenantId: text('tenantId'),
    progress: PROGRESS.find((p) => p === text('progress')) ?? null,
    grantedRoles: json('grantedRoles'),
    missingRoles: json('missingRoles'),
    error: json('error'),
    confirmedBy: json('confirmedBy'),
    enrollmentId: text('enrollmentId'),
    etag: row.etag,
  };
}
