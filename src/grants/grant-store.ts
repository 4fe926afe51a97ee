/**
 * Mailbox grants (issue-free name: "a mailbox grant"): one user's delegated access to their mailbox, for one
 * appliance of one tenant, with the profiles it may use. A grant starts `pending` with a link for the mailbox's
 * user (stored only as its SHA-256, as consent links are), becomes `active` once that user signed in and the
 * broker keeps their refresh token (sealed, src/grants/custody.ts), `reauth_required` when Microsoft refuses a
 * refresh, `revoked` by support, and reads as `expired` when the link was never used in time.
 * Table `mailboxgrants`: partition = tenant id, row = grant id; partitions `code`, `handle`, `device` and
 * `usercode`, row = the hash of the link code, the appliance's handle, a device code or a user code.
 * @module
 */
import { RowChanged, RowExists, type StoredRow, type TableStorage } from '../adapters/tables/port.js';
import { hashCode } from '../consent/onboarding-store.js';
import type { Sealed } from './custody.js';

export type GrantFlow = 'link' | 'device_code';

/** A device-code grant's codes (src/grants/device-flow.ts), each stored only as its hash. */
export interface DeviceCodes {
  readonly deviceCode: string;
  /** As shown to the user; looked up in `normalUserCode` form. */
  readonly userCode: string;
}

/** A user code as entered: 8 letters, any case, with or without the dash (device page and enrollment page). */
export const USER_CODE_ENTERED = /^[A-Za-z]{4}-?[A-Za-z]{4}$/;

/** A user code as typed: upper case, without separators (RFC 8628 §6.1). */
export const normalUserCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

export const GRANT_STATUSES = ['pending', 'active', 'reauth_required', 'revoked', 'expired'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** The user who signed in: identified by `objectId` (`oid`) only; the name is for display. */
export interface GrantUser {
  readonly objectId: string;
  readonly userPrincipalName: string;
}

/** Why a grant is not usable: Microsoft's refusal (AADSTS code) or the broker's check. */
export interface GrantError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface MailboxGrant {
  readonly id: string;
  readonly tenantId: string;
  /** The appliance (client id) that may use it, and no other. */
  readonly applianceId: string;
  /** Delegated profiles (src/profiles/profiles.ts `kind: delegated`). */
  readonly profiles: readonly string[];
  /** The mailbox named when the grant was made, lower case; null: whoever signs in with the link. */
  readonly mailbox: string | null;
  /** Stored status; `expired` is derived when reading (`effectiveGrantStatus`). */
  readonly status: GrantStatus;
  readonly createdAt: string;
  /** Until when the link can be used. */
  readonly expiresAt: string;
  readonly createdBy: string;
  readonly user: GrantUser | null;
  readonly error: GrantError | null;
  /** The user's Microsoft refresh token, sealed (src/grants/custody.ts); never shown, erased on revoke. */
  readonly refreshToken: Sealed | null;
  /** When the refresh token kept was issued to the broker. */
  readonly refreshTokenKeptAt: string | null;
  /**
   * The broker handle the appliance presents as `refresh_token` (never Microsoft's), sealed, shown to the
   * appliance until it first uses it and erased then; looked up by its SHA-256 (`byHandle`).
   */
  readonly handle: Sealed | null;
  readonly handleUsedAt: string | null;
  /**
   * How the user is reached: `link` (support or the appliance hands the user a link) or `device_code` (the
   * appliance shows a user code, RFC 8628: src/grants/device-flow.ts; the handle is given only to its poll).
   */
  readonly flow: GrantFlow;
  /**
   * The client id of the bundle app the user signs in to, fixed when the grant is made: the refresh token is that
   * app's. Absent on grants from before bundles (their profiles' app: src/grants/grant-sign-in.ts `grantApp`).
   */
  readonly app?: string | null;
  readonly etag?: string;
}

export interface GrantRef {
  readonly tenantId: string;
  readonly grantId: string;
}

export interface GrantPage {
  readonly items: readonly MailboxGrant[];
  readonly continuationToken?: string;
}

export interface MailboxGrantStore {
  /** Inserts a new grant with its link code's hash (and a device-code grant's codes' hashes). */
  create(grant: MailboxGrant, code: string, device?: DeviceCodes): Promise<void>;
  byDeviceCode(deviceCode: string): Promise<MailboxGrant | undefined>;
  byUserCode(userCode: string): Promise<MailboxGrant | undefined>;
  get(tenantId: string, id: string): Promise<MailboxGrant | undefined>;
  byCode(code: string): Promise<MailboxGrant | undefined>;
  /** Makes `handle` find this grant (`byHandle`); the handle itself is not stored in clear. */
  linkHandle(grant: MailboxGrant, handle: string): Promise<void>;
  byHandle(handle: string): Promise<MailboxGrant | undefined>;
  /** The grant a handle names, without reading the grant (handle links never change; src/directory/). */
  handleRef(handle: string): Promise<GrantRef | undefined>;
  /** The grants of one appliance in its tenant, in id order (at most `top`). */
  forAppliance(tenantId: string, applianceId: string, top: number): Promise<readonly MailboxGrant[]>;
  /** A tenant's grants in id order, paged. */
  list(
    tenantId: string,
    page: { readonly top: number; readonly continuationToken?: string },
  ): Promise<GrantPage>;
  /** Replaces the grant if unchanged since it was read (etag); throws RowChanged otherwise. */
  update(grant: MailboxGrant): Promise<MailboxGrant>;
  /** Deletes every grant of the tenant (offboarding), and their links; returns how many. */
  deleteTenant(tenantId: string): Promise<number>;
}

/** `expired` once the link's time is over without a sign-in. */
export function effectiveGrantStatus(g: MailboxGrant, now: Date): GrantStatus {
  return g.status === 'pending' && Date.parse(g.expiresAt) <= now.getTime() ? 'expired' : g.status;
}

export function createMailboxGrantStore(storage: TableStorage): MailboxGrantStore {
  const table = storage.table('mailboxgrants');
  const partition = (tenantId: string) => tenantId.toLowerCase();
  const linked = async (kind: string, key: string): Promise<MailboxGrant | undefined> => {
    const link = await table.get(kind, key);
    if (!link || typeof link.tenantId !== 'string' || typeof link.grantId !== 'string') return undefined;
    const row = await table.get(link.tenantId, link.grantId);
    return row ? fromRow(row) : undefined;
  };
  const handleRef = async (handle: string): Promise<GrantRef | undefined> => {
    const link = await table.get('handle', hashCode(handle));
    if (!link || typeof link.tenantId !== 'string' || typeof link.grantId !== 'string') return undefined;
    return { tenantId: link.tenantId, grantId: link.grantId };
  };
  return {
    async create(grant, code, device) {
      await table.insert({ partitionKey: partition(grant.tenantId), rowKey: grant.id, ...toColumns(grant) });
      const links: [string, string][] = [['code', hashCode(code)]];
      if (device)
        links.push(
          ['device', hashCode(device.deviceCode)],
          ['usercode', hashCode(normalUserCode(device.userCode))],
        );
      const made: [string, string][] = [];
      try {
        for (const [partitionKey, rowKey] of links) {
          await table.insert({
            partitionKey,
            rowKey,
            tenantId: partition(grant.tenantId),
            grantId: grant.id,
          });
          made.push([partitionKey, rowKey]);
        }
      } catch (err) {
        for (const [p, r] of made) await table.delete(p, r);
        await table.delete(partition(grant.tenantId), grant.id);
        if (err instanceof RowExists) throw new Error('grant link collision', { cause: err });
        throw err;
      }
    },
    byDeviceCode: (deviceCode) => linked('device', hashCode(deviceCode)),
    byUserCode: (userCode) => linked('usercode', hashCode(normalUserCode(userCode))),
    async get(tenantId, id) {
      const row = await table.get(partition(tenantId), id);
      return row ? fromRow(row) : undefined;
    },
    byCode: (code) => linked('code', hashCode(code)),
    async linkHandle(grant, handle) {
      await table.upsert({
        partitionKey: 'handle',
        rowKey: hashCode(handle),
        tenantId: partition(grant.tenantId),
        grantId: grant.id,
      });
    },
    async byHandle(handle) {
      const ref = await handleRef(handle);
      const row = ref ? await table.get(ref.tenantId, ref.grantId) : undefined;
      return row ? fromRow(row) : undefined;
    },
    handleRef,
    async forAppliance(tenantId, applianceId, top) {
      const page = await table.query({ partitionKey: partition(tenantId), where: { applianceId }, top });
      return page.rows.map(fromRow);
    },
    async list(tenantId, page) {
      const result = await table.query({
        partitionKey: partition(tenantId),
        top: page.top,
        ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
      });
      return {
        items: result.rows.map(fromRow),
        ...(result.continuationToken ? { continuationToken: result.continuationToken } : {}),
      };
    },
    async update(grant) {
      if (!grant.etag) throw new RowChanged();
      const { etag } = await table.replace(
        { partitionKey: partition(grant.tenantId), rowKey: grant.id, ...toColumns(grant) },
        grant.etag,
      );
      return { ...grant, etag };
    },
    async deleteTenant(tenantId) {
      const drain = async (query: { partitionKey: string; where?: Record<string, string> }) => {
        let deleted = 0;
        let continuationToken: string | undefined;
        do {
          const page = await table.query({
            ...query,
            top: 1000,
            ...(continuationToken ? { continuationToken } : {}),
          });
          for (const row of page.rows) if (await table.delete(row.partitionKey, row.rowKey)) deleted++;
          continuationToken = page.continuationToken;
        } while (continuationToken);
        return deleted;
      };
      // The links and handles first: neither may outlive its grant.
      await drain({ partitionKey: 'code', where: { tenantId: partition(tenantId) } });
      await drain({ partitionKey: 'handle', where: { tenantId: partition(tenantId) } });
      await drain({ partitionKey: 'device', where: { tenantId: partition(tenantId) } });
      await drain({ partitionKey: 'usercode', where: { tenantId: partition(tenantId) } });
      return drain({ partitionKey: partition(tenantId) });
    },
  };

  function toColumns(g: MailboxGrant) {
    return {
      applianceId: g.applianceId,
      profiles: JSON.stringify(g.profiles),
      mailbox: g.mailbox,
      status: g.status,
      createdAt: g.createdAt,
      expiresAt: g.expiresAt,
      createdBy: g.createdBy,
      user: g.user ? JSON.stringify(g.user) : null,
      error: g.error ? JSON.stringify(g.error) : null,
      refreshToken: g.refreshToken ? JSON.stringify(g.refreshToken) : null,
      refreshTokenKeptAt: g.refreshTokenKeptAt,
      handle: g.handle ? JSON.stringify(g.handle) : null,
      handleUsedAt: g.handleUsedAt,
      flow: g.flow,
      app: g.app ?? null,
    };
  }
}

function fromRow(row: StoredRow): MailboxGrant {
  const text = (k: string): string | null => (typeof row[k] === 'string' ? (row[k] as string) : null);
  const json = <T>(k: string): T | null => {
    const v = text(k);
    return v === null ? null : (JSON.parse(v) as T);
  };
  const status = text('status');
  return {
    id: row.rowKey,
    tenantId: row.partitionKey,
    applianceId: text('applianceId') ?? '',
    profiles: json<string[]>('profiles') ?? [],
    mailbox: text('mailbox'),
    status: (GRANT_STATUSES as readonly string[]).includes(status ?? '')
      ? (status as GrantStatus)
      : 'pending',
    createdAt: text('createdAt') ?? '',
    expiresAt: text('expiresAt') ?? '',
    createdBy: text('createdBy') ?? '',
    user: json('user'),
    error: json('error'),
    refreshToken: json('refreshToken'),
    refreshTokenKeptAt: text('refreshTokenKeptAt'),
    handle: json('handle'),
    handleUsedAt: text('handleUsedAt'),
    flow: text('flow') === 'device_code' ? 'device_code' : 'link',
    app: text('app'),
    etag: row.etag,
  };
}
