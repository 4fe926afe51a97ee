/**
 * Notifications to the vendor (issue 22): webhook endpoints registered by support (Broker.Admin), and the events
 * they get — a tenant's status changed, a consent revoked, a credential ending, a mailbox grant needing its user,
 * an appliance revoked — as CloudEvents 1.0 in JSON (structured mode, `application/cloudevents+json`), signed as
 * Standard Webhooks 1.0 prescribes (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256
 * of "id.timestamp.body">` with the endpoint's `whsec_` secret; receivers refuse a timestamp more than 5 minutes
 * off, which bounds replay). Each event is queued per endpoint in Table Storage (src/webhooks/store.ts) and sent
 * in order, by whichever instance gets to it first (right after the event, then the timer every minute), retried
 * with exponential backoff (30 s doubling to an hour) for a day; a delivery given up disables its endpoint, which
 * the console and the API show until support enables it again. At least once: a receiver deduplicates by
 * `webhook-id` (the CloudEvent's `id`).
 * @module
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { WebhookSender } from '../adapters/webhooks/https-sender.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { Custody } from '../grants/custody.js';
import { RowChanged } from '../adapters/tables/port.js';
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';
import type { WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookStore } from './store.js';
import { WEBHOOK_EVENT_TYPES } from './store.js';
import { checkWebhookUrl, WebhookTargetRefused, type TargetPolicy } from './target.js';

/** How long a delivery is retried before it is given up: a day. */
export const DELIVERY_WINDOW_MS = 86_400_000;
/** A sending instance holds a delivery this long; another takes it over after (an instance that died). */
const LEASE_MS = 60_000;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;
/** At most this many endpoints; each gets every event it subscribes to. */
export const MAX_ENDPOINTS = 20;

export interface WebhookDeps {
  readonly webhooks: WebhookStore;
  readonly custody: Custody;
  readonly webhookSender: WebhookSender;
  readonly webhookPolicy: TargetPolicy;
  readonly audit: AuditLog;
  readonly settings: { readonly publicUrl: string };
  readonly now: () => Date;
}

export class WebhookInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookInputError';
  }
}

const sealId = (endpointId: string) => `webhook:${endpointId}`;

/** Registers an endpoint; returns it and its signing secret (shown once, kept sealed). */
export async function registerWebhook(
  deps: WebhookDeps,
  input: { readonly url: unknown; readonly events?: unknown },
  actor: AuditActor,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  let url: URL;
  try {
    url = checkWebhookUrl(input.url, deps.webhookPolicy);
  } catch (err) {
    if (err instanceof WebhookTargetRefused) throw new WebhookInputError(err.message);
    throw err;
  }
  const events = input.events === undefined ? [...WEBHOOK_EVENT_TYPES] : input.events;
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    !events.every((e) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e))
  )
    throw new WebhookInputError(`events must list some of ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  if ((await deps.webhooks.listEndpoints()).length >= MAX_ENDPOINTS)
    throw new WebhookInputError(`At most ${MAX_ENDPOINTS} webhook endpoints; delete one first.`);
  const id = randomUUID();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const endpoint = await deps.webhooks.createEndpoint({
    id,
    url: url.toString(),
    events: [...new Set(events as WebhookEventType[])],
    secret: await deps.custody.seal(secret, sealId(id)),
    status: 'active',
    createdAt: deps.now().toISOString(),
    createdBy: actor.name ?? actor.id,
    failures: 0,
    disabledAt: null,
    lastError: null,
  });
  await deps.audit.write({
    action: 'webhook.registered',
    tenantId: null,
    actor,
    target: id,
    details: { url: endpoint.url, events: endpoint.events },
  });
  return { endpoint, secret };
}

/** The Standard Webhooks headers of `body` for `secret` at `timestamp` (seconds). */
export function signatureHeaders(secret: string, id: string, timestamp: number, body: string) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature}`,
  };
}

/**
 * Queues an event for every active endpoint that wants it, then starts sending (in the background). Returns the
 * endpoints it was queued for. An endpoint whose queue cannot be written now misses it (logged by the caller).
 */
export async function emitWebhookEvent(
  deps: WebhookDeps,
  type: WebhookEventType,
  event: { readonly subject: string | null; readonly data: Readonly<Record<string, unknown>> },
): Promise<string[]> {
  const endpoints = (await deps.webhooks.listEndpoints()).filter(
    (e) => e.status === 'active' && e.events.includes(type),
  );
  const queued: string[] = [];
  for (const endpoint of endpoints) {
    const at = deps.now().toISOString();
    await deps.webhooks.enqueue(endpoint.id, (sequence) => {
      const eventId = randomUUID();
      // CloudEvents 1.0 (cloudevents/spec: spec.md, json-format.md); `sequence`: the Sequence extension
      // (extensions/sequence.md), a string that orders an endpoint's events.
      const body = JSON.stringify({
        specversion: '1.0',
        id: eventId,
        source: deps.settings.publicUrl,
        type: `com.consentbroker.${type}`,
        time: at,
        ...(event.subject ? { subject: event.subject } : {}),
        sequence: String(sequence).padStart(12, '0'),
        datacontenttype: 'application/json',
        data: event.data,
      });
      return {
        endpointId: endpoint.id,
        sequence,
        eventId,
        type,
        body,
        status: 'pending',
        attempts: 0,
        createdAt: at,
        nextAttemptAt: at,
        leaseUntil: null,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
      };
    });
    queued.push(endpoint.id);
  }
  return queued;
}

/** The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour, with up to 10 % jitter. */
export function retryDelayMs(attempts: number): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (1 + Math.random() * 0.1));
}

/**
 * Sends an endpoint's due deliveries in order, stopping at the first that fails (it waits for its retry, and the
 * later ones behind it, so that events arrive in order). Returns how many were delivered.
 */
export async function deliverEndpoint(deps: WebhookDeps, endpointId: string): Promise<number> {
  let delivered = 0;
  for (;;) {
    const endpoint = await deps.webhooks.getEndpoint(endpointId);
    if (!endpoint || endpoint.status !== 'active') return delivered;
    const [next] = await deps.webhooks.deliveries(endpointId, 1, 'pending');
    if (!next) return delivered;
    const now = deps.now().getTime();
    if (Date.parse(next.nextAttemptAt) > now) return delivered;
    if (next.leaseUntil && Date.parse(next.leaseUntil) > now) return delivered;
    let held: WebhookDelivery;
    try {
      held = await deps.webhooks.updateDelivery({
        ...next,
        leaseUntil: new Date(now + LEASE_MS).toISOString(),
      });
    } catch (err) {
      if (err instanceof RowChanged) return delivered; // another instance sends it
      throw err;
    }
    const outcome = await send(deps, endpoint, held);
    const at = deps.now();
    if (outcome.ok) {
      await deps.webhooks.updateDelivery({
        ...held,
        status: 'delivered',
        attempts: held.attempts + 1,
        leaseUntil: null,
        lastStatus: outcome.status,
        lastError: null,
        deliveredAt: at.toISOString(),
      });
      if (endpoint.failures !== 0 || endpoint.lastError !== null)
        await deps.webhooks
          .updateEndpoint({ ...endpoint, failures: 0, lastError: null })
          .catch(() => undefined);
      delivered++;
      continue;
    }
    const attempts = held.attempts + 1;
    const givenUp = at.getTime() - Date.parse(held.createdAt) >= DELIVERY_WINDOW_MS;
    await deps.webhooks.updateDelivery({
      ...held,
      status: givenUp ? 'failed' : 'pending',
      attempts,
      leaseUntil: null,
      lastStatus: outcome.status,
      lastError: outcome.error,
      nextAttemptAt: new Date(at.getTime() + retryDelayMs(attempts)).toISOString(),
    });
    if (!givenUp) return delivered;
    // A day of failures: the endpoint keeps failing. It is disabled (shown in the console and the API) until
    // support enables it again; what was queued stays, and is sent then.
    await deps.webhooks.updateEndpoint({
      ...endpoint,
      status: 'disabled',
      failures: endpoint.failures + 1,
      disabledAt: at.toISOString(),
      lastError: outcome.error,
    });
    await deps.audit.write({
      action: 'webhook.disabled',
      tenantId: null,
      actor: { kind: 'system', id: 'webhooks' },
      target: endpoint.id,
      details: { url: endpoint.url, lastError: outcome.error },
    });
    return delivered;
  }
}

async function send(
  deps: WebhookDeps,
  endpoint: WebhookEndpoint,
  d: WebhookDelivery,
): Promise<{ ok: true; status: number } | { ok: false; status: number | null; error: string }> {
  try {
    const secret = await deps.custody.open(endpoint.secret, sealId(endpoint.id));
    const headers = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': 'consent-broker-webhooks/1',
      ...signatureHeaders(secret, d.eventId, Math.floor(deps.now().getTime() / 1000), d.body),
    };
    const res = await deps.webhookSender.send(new URL(endpoint.url), headers, d.body);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `the endpoint answered ${res.status}` };
  } catch (err) {
    // Only the kind of failure: a message could carry what the endpoint sent back.
    const error =
      err instanceof WebhookTargetRefused
        ? err.message
        : `the request failed (${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.name : 'error')})`;
    return { ok: false, status: null, error };
  }
}

/** The timer's work: every active endpoint's due deliveries. */
export async function deliverDueWebhooks(deps: WebhookDeps): Promise<number> {
  let delivered = 0;
  for (const e of await deps.webhooks.listEndpoints())
    if (e.status === 'active') delivered += await deliverEndpoint(deps, e.id).catch(() => 0);
  return delivered;
}

/** Which audit actions are which events (the audit log is where each of them is already recorded). */
const AUDITED_EVENTS: Readonly<Record<string, WebhookEventType>> = {
  'consent.revoked': 'consent.revoked',
  'credential.expiring': 'credential.expiring',
  'mailbox_grant.reauth_required': 'mailbox_grant.reauth_required',
  'appliance.revoked': 'appliance.revoked',
};

/**
 * The audit log, emitting a webhook event for each entry that is one (after the entry is written). A failure to
 * queue never fails what was audited; `onError` hears of it.
 */
export function notifyingAuditLog(
  audit: AuditLog,
  emit: (type: WebhookEventType, subject: string | null, data: Record<string, unknown>) => Promise<unknown>,
  onError: (err: unknown) => void,
): AuditLog {
  const wrap = (log: AuditLog): AuditLog => ({
    ...log,
    async write(entry) {
      await log.write(entry);
      const type = AUDITED_EVENTS[entry.action];
      if (type)
        await emit(type, entry.tenantId, {
          action: entry.action,
          tenantId: entry.tenantId,
          ...entry.details,
        }).catch(onError);
    },
    withCorrelation: (id) => wrap(log.withCorrelation(id)),
  });
  return wrap(audit);
}

/**
 * The tenant store, emitting `tenant.status_changed` when a write changes a tenant's status (read just before
 * the write: tenant writes are rare — consents, re-checks, credentials, offboarding — and never on the token
 * path, whose `lastTokenAt` goes past this). A failure to queue never fails the write.
 */
export function notifyingTenantStore(
  store: TenantStore,
  emit: (type: WebhookEventType, subject: string | null, data: Record<string, unknown>) => Promise<unknown>,
  onError: (err: unknown) => void,
): TenantStore {
  const written = async (before: TenantRecord | undefined, after: TenantRecord) => {
    if (before?.status === after.status) return;
    await emit('tenant.status_changed', after.tenantId, {
      tenantId: after.tenantId,
      displayName: after.displayName,
      from: before?.status ?? null,
      to: after.status,
      code: after.lastError?.code ?? null,
    }).catch(onError);
  };
  return {
    ...store,
    async save(t) {
      const before = await store.get(t.tenantId).catch(() => undefined);
      await store.save(t);
      await written(before, t);
    },
    async replace(t) {
      const before = await store.get(t.tenantId).catch(() => undefined);
      await store.replace(t);
      await written(before, t);
    },
  };
}

/**
 * The emitter the broker's stores and audit log are built with before the broker (and so the queue) exists:
 * events before `bind` are none (nothing happens before the broker is made); after it, each is queued and its
 * endpoints' delivery started in the background.
 */
export function webhookEmitter(): {
  emit: (type: WebhookEventType, subject: string | null, data: Record<string, unknown>) => Promise<void>;
  failed: (err: unknown) => void;
  bind: (deps: WebhookDeps) => void;
} {
  let bound: WebhookDeps | undefined;
  return {
    async emit(type, subject, data) {
      const deps = bound;
      if (!deps) return;
      for (const id of await emitWebhookEvent(deps, type, { subject, data }))
        void deliverEndpoint(deps, id).catch(() => undefined);
    },
    failed: (err) =>
      console.warn(`webhooks: an event could not be queued (${err instanceof Error ? err.name : 'error'})`),
    bind(deps) {
      bound = deps;
    },
  };
}
