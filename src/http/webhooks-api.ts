/**
 * `POST|GET /api/webhooks`, `GET|DELETE /api/webhooks/{webhookId}`, `POST /api/webhooks/{webhookId}/enable`
 * (issue 22): the support API's webhook endpoints. The domain is src/webhooks/webhooks.ts; no answer carries a
 * secret except the one registration shows once.
 * @module
 */
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import type { WebhookDelivery, WebhookEndpoint } from '../webhooks/store.js';
import {
  deliverEndpoint,
  registerWebhook,
  WebhookInputError,
  type WebhookDeps,
} from '../webhooks/webhooks.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { webhookRoutes } from './routes/webhooks.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';

export function webhookView(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    status: e.status,
    createdAt: e.createdAt,
    createdBy: e.createdBy,
    failures: e.failures,
    disabledAt: e.disabledAt,
    lastError: e.lastError,
  };
}

export function deliveryView(d: WebhookDelivery) {
  return {
    eventId: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    nextAttemptAt: d.nextAttemptAt,
    deliveredAt: d.deliveredAt,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
  };
}

const noStore = { 'cache-control': 'no-store' };

/** `POST /api/webhooks` (Broker.Admin) */
export async function postWebhook(deps: WebhookDeps, request: HttpRequestLike, staff: StaffPrincipal) {
  readQuery(webhookRoutes.createWebhook, request);
  const body = await readJsonBody(request, 'WebhookRequest');
  try {
    const { endpoint, secret } = await registerWebhook(deps, body, staffActor(staff));
    return jsonReply(201, { ...webhookView(endpoint), secret }, noStore);
  } catch (err) {
    if (err instanceof WebhookInputError) throw badRequest(err.message);
    throw err;
  }
}

/** `GET /api/webhooks` (Broker.Read) */
export async function listWebhooks(deps: WebhookDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(webhookRoutes.listWebhooks, request);
  return jsonReply(200, { items: (await deps.webhooks.listEndpoints()).map(webhookView) }, noStore);
}

async function endpointOf(deps: WebhookDeps, request: HttpRequestLike, route: keyof typeof webhookRoutes) {
  readQuery(webhookRoutes[route], request);
  const { webhookId } = readPath<{ webhookId: string }>(webhookRoutes[route], request);
  const endpoint = await deps.webhooks.getEndpoint(webhookId.toLowerCase());
  if (!endpoint) throw notFound(`No webhook endpoint ${webhookId}.`);
  return endpoint;
}

/** `GET /api/webhooks/{webhookId}` (Broker.Read) */
export async function getWebhook(deps: WebhookDeps, request: HttpRequestLike): Promise<HttpReply> {
  const endpoint = await endpointOf(deps, request, 'getWebhook');
  const deliveries = await deps.webhooks.recentDeliveries(endpoint.id, 50);
  return jsonReply(200, { ...webhookView(endpoint), deliveries: deliveries.map(deliveryView) }, noStore);
}

/** `POST /api/webhooks/{webhookId}/enable` (Broker.Admin) */
export async function enableWebhook(deps: WebhookDeps, request: HttpRequestLike, staff: StaffPrincipal) {
  const endpoint = await endpointOf(deps, request, 'enableWebhook');
  const enabled =
    endpoint.status === 'active'
      ? endpoint
      : await deps.webhooks.updateEndpoint({ ...endpoint, status: 'active', disabledAt: null });
  await deps.audit.write({
    action: 'webhook.enabled',
    tenantId: null,
    actor: staffActor(staff),
    target: endpoint.id,
    details: { url: endpoint.url },
  });
  void deliverEndpoint(deps, endpoint.id).catch(() => undefined);
  return jsonReply(200, webhookView(enabled), noStore);
}

/** `DELETE /api/webhooks/{webhookId}` (Broker.Admin) */
export async function deleteWebhook(deps: WebhookDeps, request: HttpRequestLike, staff: StaffPrincipal) {
  const endpoint = await endpointOf(deps, request, 'deleteWebhook');
  await deps.webhooks.deleteEndpoint(endpoint.id);
  await deps.audit.write({
    action: 'webhook.deleted',
    tenantId: null,
    actor: staffActor(staff),
    target: endpoint.id,
    details: { url: endpoint.url },
  });
  return { status: 204, headers: noStore };
}
