/**
 * The support console's sessions (issue 22): a vendor staff member signed in with Entra ID, kept server-side in
 * Table Storage so that signing out ends the session everywhere at once and a copied cookie stops working with
 * it. The browser holds only the session id, 256 random bits, in an HttpOnly cookie
 * (src/http/console-endpoints.ts); the table holds its SHA-256, never the id. Table `consolesessions`.
 *
 * Limits (OWASP Session Management Cheat Sheet, "Session Expiration": idle 15–30 minutes for high-value
 * applications, an absolute limit of a working day): a session ends after SESSION_IDLE_SECONDS without a request
 * and SESSION_ABSOLUTE_SECONDS after its sign-in, whichever comes first. The roles are those of the ID token at
 * sign-in: a role removed in Entra takes effect at the next sign-in, at most SESSION_ABSOLUTE_SECONDS later.
 *
 * CSRF: each session has a synchronizer token, derived from its id with the broker key
 * (`csrfTokenFor`): every state-changing form carries it and the endpoint compares it in constant time. Nobody
 * without the session id can compute it; it is never stored.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RowChanged, RowMissing, type TableStorage } from '../adapters/tables/port.js';
import type { StaffRole } from '../support/staff-auth.js';

/** Idle limit: 30 minutes without a request. */
export const SESSION_IDLE_SECONDS = 30 * 60;
/** Absolute limit: 8 hours after the sign-in. */
export const SESSION_ABSOLUTE_SECONDS = 8 * 3600;
/** `lastSeenAt` is written at most this often (a page view is not a table write each time). */
const TOUCH_EVERY_SECONDS = 60;

export interface ConsoleSession {
  /** The staff member as the ID token named them: identified by tenant + object id, the name for display. */
  readonly tenantId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly roles: readonly StaffRole[];
  readonly createdAt: string;
  readonly lastSeenAt: string;
  /** The absolute end: createdAt + SESSION_ABSOLUTE_SECONDS. */
  readonly expiresAt: string;
}

export interface ConsoleSessions {
  /** A new session; returns its id for the cookie (shown nowhere else). */
  create(user: Pick<ConsoleSession, 'tenantId' | 'objectId' | 'displayName' | 'roles'>): Promise<string>;
  /** The live session of `id`, its idle clock reset; undefined when unknown, ended or past a limit. */
  get(id: string): Promise<ConsoleSession | undefined>;
  /** Ends the session (sign-out). */
  end(id: string): Promise<void>;
}

/** A syntactically possible session id: what `create` makes (43 base64url). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const hash = (id: string) => createHash('sha256').update(id).digest('base64url');

export function createConsoleSessions(
  storage: TableStorage,
  now: () => Date = () => new Date(),
): ConsoleSessions {
  const table = storage.table('consolesessions');
  return {
    async create(user) {
      const id = randomBytes(32).toString('base64url');
      const at = now();
      await table.insert({
        partitionKey: 'session',
        rowKey: hash(id),
        tenantId: user.tenantId,
        objectId: user.objectId,
        displayName: user.displayName,
        roles: JSON.stringify(user.roles),
        createdAt: at.toISOString(),
        lastSeenAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + SESSION_ABSOLUTE_SECONDS * 1000).toISOString(),
      });
      return id;
    },
    async get(id) {
      if (!SESSION_ID_PATTERN.test(id)) return undefined;
      const row = await table.get('session', hash(id));
      if (!row) return undefined;
      const at = now().getTime();
      const lastSeen = Date.parse(String(row.lastSeenAt));
      if (!(at < Date.parse(String(row.expiresAt))) || !(at - lastSeen < SESSION_IDLE_SECONDS * 1000)) {
        await table.delete('session', row.rowKey);
        return undefined;
      }
      let lastSeenAt = String(row.lastSeenAt);
      if (at - lastSeen >= TOUCH_EVERY_SECONDS * 1000) {
        lastSeenAt = new Date(at).toISOString();
        // Only the row read: a sign-out meanwhile (deleted) is not undone, and another request of the same
        // browser touching it at once (changed) has done the same.
        const { etag, ...stored } = row;
        await table.replace({ ...stored, lastSeenAt }, etag).catch((err: unknown) => {
          if (!(err instanceof RowChanged || err instanceof RowMissing)) throw err;
        });
      }
      const roles = JSON.parse(String(row.roles)) as unknown;
      return {
        tenantId: String(row.tenantId),
        objectId: String(row.objectId),
        displayName: String(row.displayName),
        roles: Array.isArray(roles)
          ? roles.filter((r): r is StaffRole => r === 'Broker.Read' || r === 'Broker.Admin')
          : [],
        createdAt: String(row.createdAt),
        lastSeenAt,
        expiresAt: String(row.expiresAt),
      };
    },
    async end(id) {
      if (SESSION_ID_PATTERN.test(id)) await table.delete('session', hash(id));
    },
  };
}

/** The session's CSRF token: the broker key's HMAC of its id (src/keys/), recomputable by any instance. */
export function csrfTokenFor(keys: { derive(purpose: string, input: string): Promise<string> }, id: string) {
  return keys.derive('console-csrf', id);
}

/** Whether `presented` is the session's CSRF token, compared in constant time. */
export async function csrfTokenValid(
  keys: { derive(purpose: string, input: string): Promise<string> },
  id: string,
  presented: string | undefined,
): Promise<boolean> {
  if (!presented) return false;
  const expected = Buffer.from(await csrfTokenFor(keys, id));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The staff roles among an ID token's `roles`. */
export function staffRoles(appRoles: readonly string[]): StaffRole[] {
  return (['Broker.Read', 'Broker.Admin'] as const).filter((r) => appRoles.includes(r));
}

/** Whether the session may do what `need` requires (Broker.Admin includes Broker.Read, as in the support API). */
export function mayDo(session: Pick<ConsoleSession, 'roles'>, need: StaffRole): boolean {
  return (
    session.roles.includes('Broker.Admin') ||
    (need === 'Broker.Read' && session.roles.includes('Broker.Read'))
  );
}
