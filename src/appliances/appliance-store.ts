/**
 * Appliances (SPEC.md "appliance"): one PBX or contact-center installation with a broker client id, its own
 * credential (a broker-issued client secret kept only as verifiers, public JWKs for private_key_jwt, or none for a
 * public client that may only use the device-code flow), a
 * customer reference, the profiles it may use and at most one bound tenant. Table `appliances`, partition
 * `appliance`, row key the client id.
 * @module
 */
import type { JWK } from 'jose';
import { updateRows } from '../adapters/tables/bulk-update.js';
import { RowChanged, type StoredRow, type TableStorage } from '../adapters/tables/port.js';

/**
 * `none`: a public client (RFC 6749 §2.1) — firmware that keeps no secret and uses only the device-code flow
 * for a user's mailbox grant and the handle it yields (src/grants/device-flow.ts).
 */
export type ApplianceAuthMethod = 'client_secret' | 'private_key_jwt' | 'none';

export interface SecretVerifier {
  /** HMAC-SHA-256 of the secret under the broker key (src/keys/broker-keys.ts), base64url. */
  readonly verifier: string;
  readonly createdAt: string;
  /** Set when a newer secret replaced this one: accepted until then (rotation grace period). */
  readonly validUntil: string | null;
}

export interface Appliance {
  readonly clientId: string;
  readonly customerRef: string;
  readonly tenantId: string | null;
  readonly profiles: readonly string[];
  readonly authMethod: ApplianceAuthMethod;
  readonly secrets: readonly SecretVerifier[];
  readonly jwks: readonly JWK[];
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly lastSeenAt: string | null;
  readonly tokenCount: number;
  readonly etag?: string;
}

export interface AppliancePage {
  readonly items: readonly Appliance[];
  readonly continuationToken?: string;
}

export interface ApplianceStore {
  create(appliance: Appliance): Promise<void>;
  get(clientId: string): Promise<Appliance | undefined>;
  /** Replaces it if unchanged since read (etag); throws RowChanged otherwise. */
  update(appliance: Appliance): Promise<Appliance>;
  /** `profile`: only appliances allowed that profile, filtered in the page, which may then hold fewer. */
  list(query: {
    tenantId?: string;
    profile?: string;
    top: number;
    continuationToken?: string;
  }): Promise<AppliancePage>;
  /**
   * Adds counted tokens to each appliance's `tokenCount` and moves its `lastSeenAt` forward (never back), in
   * few requests (src/adapters/tables/bulk-update.ts); these columns only, so no other change is undone.
   * Returns the client ids whose counts could not be written. An appliance that is gone is skipped.
   */
  addUsage(
    usage: ReadonlyMap<string, { readonly count: number; readonly last: number }>,
  ): Promise<Set<string>>;
}

const PARTITION = 'appliance';

export function createApplianceStore(storage: TableStorage): ApplianceStore {
  const table = storage.table('appliances');
  return {
    async create(a) {
      await table.insert(toRow(a));
    },
    async get(clientId) {
      const row = await table.get(PARTITION, clientId);
      return row ? fromRow(row) : undefined;
    },
    async update(a) {
      if (!a.etag) throw new RowChanged();
      const { etag } = await table.replace(toRow(a), a.etag);
      return { ...a, etag };
    },
    addUsage(usage) {
      return updateRows(table, PARTITION, [...usage.keys()], ['lastSeenAt', 'tokenCount'], (row) => {
        const u = usage.get(row.rowKey)!;
        const seen = typeof row.lastSeenAt === 'string' ? Date.parse(row.lastSeenAt) : 0;
        const count = typeof row.tokenCount === 'number' ? row.tokenCount : 0;
        return {
          lastSeenAt: new Date(Math.max(u.last, Number.isNaN(seen) ? 0 : seen)).toISOString(),
          tokenCount: count + u.count,
        };
      });
    },
    async list({ tenantId, profile, top, continuationToken }) {
      const page = await table.query({
        partitionKey: PARTITION,
        where: tenantId ? { tenantId } : undefined,
        top,
        continuationToken,
      });
      return {
        items: page.rows.map(fromRow).filter((a) => profile === undefined || a.profiles.includes(profile)),
        ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
      };
    },
  };
}

function toRow(a: Appliance) {
  return {
    partitionKey: PARTITION,
    rowKey: a.clientId,
    customerRef: a.customerRef,
    tenantId: a.tenantId,
    profiles: JSON.stringify(a.profiles),
    authMethod: a.authMethod,
    secrets: JSON.stringify(a.secrets),
    jwks: JSON.stringify(a.jwks),
    status: a.status,
    createdAt: a.createdAt,
    createdBy: a.createdBy,
    revokedAt: a.revokedAt,
    lastSeenAt: a.lastSeenAt,
    tokenCount: a.tokenCount,
  };
}

function profileList(text: string | null): readonly string[] {
  return text === null ? [] : Object.freeze(JSON.parse(text) as string[]);
}

function fromRow(row: StoredRow): Appliance {
  const text = (k: string): string | null => (typeof row[k] === 'string' ? (row[k] as string) : null);
  const json = <T>(k: string, fallback: T): T => {
    const v = text(k);
    return v === null ? fallback : (JSON.parse(v) as T);
  };
  return {
    clientId: row.rowKey,
    customerRef: text('customerRef') ?? '',
    tenantId: text('tenantId'),
    profiles: profileList(text('profiles')),
    authMethod: ((m) => (m === 'private_key_jwt' || m === 'none' ? m : 'client_secret'))(text('authMethod')),
    secrets: json<SecretVerifier[]>('secrets', []),
    jwks: json<JWK[]>('jwks', []),
    status: text('status') === 'revoked' ? 'revoked' : 'active',
    createdAt: text('createdAt') ?? '',
    createdBy: text('createdBy') ?? '',
    revokedAt: text('revokedAt'),
    lastSeenAt: text('lastSeenAt'),
    tokenCount: typeof row.tokenCount === 'number' ? row.tokenCount : 0,
    etag: row.etag,
  };
}
