/**
 * Webhook endpoints and their delivery queue, in Table Storage (issue 22).
 *
 * - `webhooks`, partition `endpoint`: one row per endpoint — its URL, the event types it wants, its signing secret
 *   sealed under the broker's Key Vault key (src/grants/custody.ts; never in clear, shown once at registration),
 *   whether it is active or disabled, and its consecutive failures.
 * - `webhookdeliveries`, partition = the endpoint id: one row per event to deliver there, row key
 *   `<sequence, 12 digits>`, so that an endpoint's deliveries read in the order the events happened. A delivery
 *   is `pending` (with `nextAttemptAt` and `attempts`), `delivered` or `failed`; any instance may send it, the one
 *   that wins the row's etag (a lease) does, so it is sent at least once and normally once.
 * @module
 */
import { RowChanged, RowExists, type StoredRow, type TableStorage } from '../adapters/tables/port.js';
import type { Sealed } from '../grants/custody.js';

export const WEBHOOK_EVENT_TYPES = [
  'tenant.status_changed',
  'consent.revoked',
  'credential.expiring',
  'mailbox_grant.reauth_required',
  'appliance.revoked',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly WebhookEventType[];
  readonly secret: Sealed;
  readonly status: 'active' | 'disabled';
  readonly createdAt: string;
  readonly createdBy: string;
  /** Deliveries that failed for good in a row (reset by a delivered one). */
  readonly failures: number;
  readonly disabledAt: string | null;
  readonly lastError: string | null;
  /** The sequence number of its last event: the next is one more. */
  readonly sequence: number;
  readonly etag?: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  readonly endpointId: string;
  readonly sequence: number;
  readonly eventId: string;
  readonly type: WebhookEventType;
  /** The CloudEvent as sent (JSON text). */
  readonly body: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string;
  /** Until when the instance sending it holds it; others leave it alone meanwhile. */
  readonly leaseUntil: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
  readonly etag?: string;
}

export interface WebhookStore {
  createEndpoint(e: Omit<WebhookEndpoint, 'sequence' | 'etag'>): Promise<WebhookEndpoint>;
  getEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  /** Replaces it if unchanged since read; throws RowChanged otherwise. */
  updateEndpoint(e: WebhookEndpoint): Promise<WebhookEndpoint>;
  deleteEndpoint(id: string): Promise<void>;
  /** Appends an event to the endpoint's queue under the next sequence number (retried on a concurrent append). */
  enqueue(
    endpointId: string,
    make: (sequence: number) => Omit<WebhookDelivery, 'etag'>,
  ): Promise<WebhookDelivery>;
  /** The endpoint's deliveries from the oldest on (at most `top`); `status` filters. */
  deliveries(endpointId: string, top: number, status?: DeliveryStatus): Promise<WebhookDelivery[]>;
  /** The newest deliveries of the endpoint, newest first (the delivery log). */
  recentDeliveries(endpointId: string, top: number): Promise<WebhookDelivery[]>;
  /** Replaces it if unchanged since read; throws RowChanged otherwise. */
  updateDelivery(d: WebhookDelivery): Promise<WebhookDelivery>;
}

const seqKey = (n: number) => String(n).padStart(12, '0');

export function createWebhookStore(storage: TableStorage): WebhookStore {
  const endpoints = storage.table('webhooks');
  const queue = storage.table('webhookdeliveries');

  const toEndpoint = (r: StoredRow): WebhookEndpoint => ({
    id: r.rowKey,
    url: String(r.url),
    events: JSON.parse(String(r.events)) as WebhookEventType[],
    secret: JSON.parse(String(r.secret)) as Sealed,
    status: r.status === 'disabled' ? 'disabled' : 'active',
    createdAt: String(r.createdAt),
    createdBy: String(r.createdBy),
    failures: typeof r.failures === 'number' ? r.failures : 0,
    disabledAt: typeof r.disabledAt === 'string' ? r.disabledAt : null,
    lastError: typeof r.lastError === 'string' ? r.lastError : null,
    sequence: typeof r.sequence === 'number' ? r.sequence : 0,
    etag: r.etag,
  });
  const endpointRow = (e: Omit<WebhookEndpoint, 'etag'>) => ({
    partitionKey: 'endpoint',
    rowKey: e.id,
    url: e.url,
    events: JSON.stringify(e.events),
    secret: JSON.stringify(e.secret),
    status: e.status,
    createdAt: e.createdAt,
    createdBy: e.createdBy,
    failures: e.failures,
    disabledAt: e.disabledAt,
    lastError: e.lastError,
    sequence: e.sequence,
  });
  const toDelivery = (r: StoredRow): WebhookDelivery => ({
    endpointId: r.partitionKey,
    sequence: Number(r.rowKey),
    eventId: String(r.eventId),
    type: String(r.type) as WebhookEventType,
    body: String(r.body),
    status: r.status === 'delivered' || r.status === 'failed' ? r.status : 'pending',
    attempts: typeof r.attempts === 'number' ? r.attempts : 0,
    createdAt: String(r.createdAt),
    nextAttemptAt: String(r.nextAttemptAt),
    leaseUntil: typeof r.leaseUntil === 'string' ? r.leaseUntil : null,
    lastStatus: typeof r.lastStatus === 'number' ? r.lastStatus : null,
    lastError: typeof r.lastError === 'string' ? r.lastError : null,
    deliveredAt: typeof r.deliveredAt === 'string' ? r.deliveredAt : null,
    etag: r.etag,
  });
  const deliveryRow = (d: Omit<WebhookDelivery, 'etag'>) => ({
    partitionKey: d.endpointId,
    rowKey: seqKey(d.sequence),
    eventId: d.eventId,
    type: d.type,
    body: d.body,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    nextAttemptAt: d.nextAttemptAt,
    leaseUntil: d.leaseUntil,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    deliveredAt: d.deliveredAt,
  });

  return {
    async createEndpoint(e) {
      const endpoint = { ...e, sequence: 0 };
      const { etag } = await endpoints.insert(endpointRow(endpoint));
      return { ...endpoint, etag };
    },
    async getEndpoint(id) {
      const r = await endpoints.get('endpoint', id);
      return r ? toEndpoint(r) : undefined;
    },
    async listEndpoints() {
      const out: WebhookEndpoint[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await endpoints.query({
          partitionKey: 'endpoint',
          top: 1000,
          ...(continuationToken ? { continuationToken } : {}),
        });
        out.push(...page.rows.map(toEndpoint));
        continuationToken = page.continuationToken;
      } while (continuationToken);
      return out;
    },
    async updateEndpoint(e) {
      const { etag } = await endpoints.replace(endpointRow(e), e.etag ?? '*');
      return { ...e, etag };
    },
    async deleteEndpoint(id) {
      await endpoints.delete('endpoint', id);
    },
    async enqueue(endpointId, make) {
      // The endpoint row holds the last sequence number: taking the next one is a conditional replace, so two
      // instances never give one number twice; the delivery row's insert-if-absent is a second guard.
      for (let attempt = 0; attempt < 20; attempt++) {
        const row = await endpoints.get('endpoint', endpointId);
        if (!row) throw new Error(`no webhook endpoint ${endpointId}`);
        const e = toEndpoint(row);
        const sequence = e.sequence + 1;
        try {
          await endpoints.replace(endpointRow({ ...e, sequence }), row.etag);
        } catch (err) {
          if (err instanceof RowChanged) continue;
          throw err;
        }
        const delivery = make(sequence);
        try {
          const { etag } = await queue.insert(deliveryRow(delivery));
          return { ...delivery, etag };
        } catch (err) {
          if (err instanceof RowExists) continue;
          throw err;
        }
      }
      throw new Error(`could not take a sequence number of webhook endpoint ${endpointId}`);
    },
    async deliveries(endpointId, top, status) {
      const page = await queue.query({
        partitionKey: endpointId,
        ...(status ? { where: { status } } : {}),
        top,
      });
      return page.rows.map(toDelivery);
    },
    async recentDeliveries(endpointId, top) {
      // Row keys rise with the sequence: the newest are the last; an endpoint keeps a day of deliveries or so.
      const all: WebhookDelivery[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await queue.query({
          partitionKey: endpointId,
          top: 1000,
          ...(continuationToken ? { continuationToken } : {}),
        });
        all.push(...page.rows.map(toDelivery));
        continuationToken = page.continuationToken;
      } while (continuationToken && all.length < 10_000);
      return all.slice(-top).reverse();
    },
    async updateDelivery(d) {
      const { etag } = await queue.replace(deliveryRow(d), d.etag ?? '*');
      return { ...d, etag };
    },
  };
}
