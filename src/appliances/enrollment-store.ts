/**
 * Zero-touch enrollments (src/appliances/enrollment.ts): a PBX without a credential asks to be enrolled, shows a
 * user code, and polls with its device code until an admin of its tenant has confirmed it. Both codes are stored
 * only as their SHA-256, as consent links and grant codes are; the client secret an enrollment hands over is kept
 * sealed (src/grants/custody.ts) until the one poll that delivers it, and erased then.
 * Table `enrollments`: partition `enrollment`, row = enrollment id; partitions `device` and `usercode`, row = the
 * hash of the device code or of the user code (normalised), pointing at the enrollment.
 * @module
 */
import type { JWK } from 'jose';
import { RowChanged, RowExists, type StoredRow, type TableStorage } from '../adapters/tables/port.js';
import { hashCode } from '../consent/onboarding-store.js';
import type { Sealed } from '../grants/custody.js';
import { normalUserCode } from '../grants/grant-store.js';

/**
 * - `pending`: the code was not entered yet, or the admin has not finished (`applianceId` set once entered);
 * - `delivered`: the appliance is bound and the device received its credential (once);
 * - `expired` is derived from `expiresAt` for one never delivered.
 */
export type EnrollmentStatus = 'pending' | 'delivered' | 'expired';

export interface Enrollment {
  readonly id: string;
  readonly status: EnrollmentStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** The source address that asked (audit and support only). */
  readonly address: string | null;
  /** Profiles the device asked for (checked against the profiles file when asked). */
  readonly profiles: readonly string[];
  /** The vendor's own site or customer id the device knows, or `enrolled-` and the id's first 8 characters. */
  readonly customerRef: string;
  /** The device's public keys: it will authenticate with private_key_jwt; empty: it gets a client secret. */
  readonly jwks: readonly JWK[];
  /** The appliance registered when the admin entered the code (unbound until the admin confirms). */
  readonly applianceId: string | null;
  /** Sign-ins started with this code (bounded: src/appliances/enrollment.ts MAX_SIGN_IN_STARTS). */
  readonly signInStarts: number;
  /** The appliance's client secret, sealed, until delivered. */
  readonly secret: Sealed | null;
  readonly deliveredAt: string | null;
  readonly etag?: string;
}

export interface EnrollmentStore {
  create(
    enrollment: Enrollment,
    codes: { readonly deviceCode: string; readonly userCode: string },
  ): Promise<void>;
  get(id: string): Promise<Enrollment | undefined>;
  byDeviceCode(deviceCode: string): Promise<Enrollment | undefined>;
  byUserCode(userCode: string): Promise<Enrollment | undefined>;
  /** Replaces it if unchanged since read (etag); throws RowChanged otherwise. */
  update(enrollment: Enrollment): Promise<Enrollment>;
}

const PARTITION = 'enrollment';

export function effectiveEnrollmentStatus(e: Enrollment, now: Date): EnrollmentStatus {
  return e.status === 'pending' && Date.parse(e.expiresAt) <= now.getTime() ? 'expired' : e.status;
}

export function createEnrollmentStore(storage: TableStorage): EnrollmentStore {
  const table = storage.table('enrollments');
  const linked = async (kind: string, key: string): Promise<Enrollment | undefined> => {
    const link = await table.get(kind, key);
    if (!link || typeof link.enrollmentId !== 'string') return undefined;
    const row = await table.get(PARTITION, link.enrollmentId);
    return row ? fromRow(row) : undefined;
  };
  return {
    async create(enrollment, codes) {
      await table.insert({ partitionKey: PARTITION, rowKey: enrollment.id, ...toColumns(enrollment) });
      const links: [string, string][] = [
        ['device', hashCode(codes.deviceCode)],
        ['usercode', hashCode(normalUserCode(codes.userCode))],
      ];
      const made: [string, string][] = [];
      try {
        for (const [partitionKey, rowKey] of links) {
          await table.insert({ partitionKey, rowKey, enrollmentId: enrollment.id });
          made.push([partitionKey, rowKey]);
        }
      } catch (err) {
        for (const [p, r] of made) await table.delete(p, r);
        await table.delete(PARTITION, enrollment.id);
        if (err instanceof RowExists) throw new Error('enrollment code collision', { cause: err });
        throw err;
      }
    },
    async get(id) {
      const row = await table.get(PARTITION, id);
      return row ? fromRow(row) : undefined;
    },
    byDeviceCode: (deviceCode) => linked('device', hashCode(deviceCode)),
    byUserCode: (userCode) => linked('usercode', hashCode(normalUserCode(userCode))),
    async update(enrollment) {
      if (!enrollment.etag) throw new RowChanged();
      const { etag } = await table.replace(
        { partitionKey: PARTITION, rowKey: enrollment.id, ...toColumns(enrollment) },
        enrollment.etag,
      );
      return { ...enrollment, etag };
    },
  };
}

function toColumns(e: Enrollment) {
  return {
    status: e.status,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
    address: e.address,
    profiles: JSON.stringify(e.profiles),
    customerRef: e.customerRef,
    jwks: JSON.stringify(e.jwks),
    applianceId: e.applianceId,
    signInStarts: e.signInStarts,
    secret: e.secret ? JSON.stringify(e.secret) : null,
    deliveredAt: e.deliveredAt,
  };
}

function fromRow(row: StoredRow): Enrollment {
  const text = (k: string): string | null => (typeof row[k] === 'string' ? (row[k] as string) : null);
  const json = <T>(k: string, fallback: T): T => {
    const v = text(k);
    return v === null ? fallback : (JSON.parse(v) as T);
  };
  return {
    id: row.rowKey,
    status: text('status') === 'delivered' ? 'delivered' : 'pending',
    createdAt: text('createdAt') ?? '',
    expiresAt: text('expiresAt') ?? '',
    address: text('address'),
    profiles: json<string[]>('profiles', []),
    customerRef: text('customerRef') ?? '',
    jwks: json<JWK[]>('jwks', []),
    applianceId: text('applianceId'),
    signInStarts: typeof row.signInStarts === 'number' ? row.signInStarts : 0,
    secret: json<Sealed | null>('secret', null),
    deliveredAt: text('deliveredAt'),
    etag: row.etag,
  };
}
