/**
 * Webhook delivery against a real receiver on a socket (issue 22): registered over the support API (Broker.Admin,
 * the secret shown once), an event arrives as a CloudEvents 1.0 JSON request signed per Standard Webhooks 1.0
 * (checked here as a receiver would: HMAC-SHA256 of "id.timestamp.body" with the secret, timestamp within 5
 * minutes); a failing receiver gets retries with backoff while the events behind wait, so they arrive in order;
 * after a day of failures the endpoint is disabled, queues nothing new, and resumes when enabled.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createBroker, type Broker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import {
  DELIVERY_WINDOW_MS,
  deliverEndpoint,
  emitWebhookEvent,
  registerWebhook,
  type WebhookDeps,
} from '../../src/webhooks/webhooks.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant } from '../helpers/consented-tenant.js';
import { sandboxSettings, startTestBroker, type TestBroker } from '../integration/broker-host.js';

interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A receiver on loopback: answers the statuses queued (then 204), records every request. */
async function receiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/broker`;
  return { url, received, statuses, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** What a receiver does with a request (Standard Webhooks 1.0, "Verifying webhook authenticity"). */
function verified(secret: string, r: Received, nowSeconds: number): boolean {
  const id = String(r.headers['webhook-id']);
  const timestamp = Number(r.headers['webhook-timestamp']);
  if (!Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${id}.${timestamp}.${r.body}`)
    .digest();
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((s) => {
      const [version, sig] = s.split(',');
      const given = Buffer.from(sig ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('webhooks over the support API', () => {
  let broker: TestBroker;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    broker = await startTestBroker();
    hook = await receiver();
  });
  afterAll(async () => {
    await broker?.close();
    await hook?.close();
  });

  const api = async (method: string, path: string, body?: unknown, roles = ['Broker.Admin']) => {
    const res = await fetch(`${broker.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await broker.staffToken({ roles })}`,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>),
    };
  };

  it('registers an endpoint for Broker.Admin only, shows the secret once, and sends a revoked appliance signed', async () => {
    expect((await api('POST', '/api/webhooks', { url: hook.url }, ['Broker.Read'])).status).toBe(403);
    expect((await api('POST', '/api/webhooks', { url: 'ftp://x.example/' })).status).toBe(400);
    expect((await api('POST', '/api/webhooks', { url: hook.url, events: ['tenant.exploded'] })).status).toBe(
      400,
    );
    const created = await api('POST', '/api/webhooks', { url: hook.url, events: ['appliance.revoked'] });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = created.body.id as string;
    const read = await api('GET', `/api/webhooks/${id}`, undefined, ['Broker.Read']);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(secret.slice(6));

    const appliance = await api('POST', '/api/appliances', {
      customerRef: 'REF-hooks',
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    });
    const clientId = appliance.body.clientId as string;
    expect((await api('DELETE', `/api/appliances/${clientId}`)).status).toBe(204);

    await vi.waitFor(() => expect(hook.received.length).toBe(1), { timeout: 10_000 });
    const r = hook.received[0]!;
    expect(r.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(verified(secret, r, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verified(`whsec_${Buffer.alloc(32).toString('base64')}`, r, Math.floor(Date.now() / 1000))).toBe(
      false,
    );
    const event = JSON.parse(r.body) as Record<string, unknown>;
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'com.consentbroker.appliance.revoked',
      source: 'http://localhost:7071',
      datacontenttype: 'application/json',
      sequence: '000000000001',
      data: { clientId },
    });
    expect(event.id).toBe(r.headers['webhook-id']);
    const log = await api('GET', `/api/webhooks/${id}`);
    expect((log.body.deliveries as { status: string }[])[0]).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    // The console's delivery log shows the same.
    const browser = new ConsentBrowser(broker.url);
    await browser.submit(await browser.open(`${broker.url}/console`), {
      account: inject('sandbox').staff.reader,
    });
    const page = await browser.open(`${broker.url}/console/webhooks`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<code>${hook.url}</code>`);
    expect(page.body).toContain('<code>appliance.revoked</code>');
    expect(page.body).toContain('delivered');
    expect(page.body).not.toContain(secret.slice(6));
    expect((await api('DELETE', `/api/webhooks/${id}`)).status).toBe(204);
  });

  it("sends a tenant's status change when a consent connects it", async () => {
    const created = await api('POST', '/api/webhooks', { url: hook.url, events: ['tenant.status_changed'] });
    const before = hook.received.length;
    const tenant = await consentedTenant(broker.url, await broker.staffToken(), 'Hooked Customer', [
      'exchange-imap',
    ]);
    await vi.waitFor(() => expect(hook.received.length).toBeGreaterThan(before), { timeout: 10_000 });
    const events = hook.received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({
      type: 'com.consentbroker.tenant.status_changed',
      subject: tenant.tenantId,
      data: { tenantId: tenant.tenantId, to: 'active' },
    });
    expect((await api('DELETE', `/api/webhooks/${created.body.id as string}`)).status).toBe(204);
  });
});

describe('webhook delivery, by the clock', () => {
  let b: Broker;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let clock = Date.parse('2026-12-03T10:00:00Z');
  let deps: WebhookDeps;
  beforeAll(async () => {
    b = await createBroker(loadConfig(sandboxSettings()));
    hook = await receiver();
    deps = { ...b, now: () => new Date(clock) };
  });
  afterAll(async () => {
    await hook?.close();
  });

  it('retries a failing receiver with backoff, holding later events back, so they arrive in order', async () => {
    const { endpoint, secret } = await registerWebhook(
      deps,
      { url: hook.url, events: ['tenant.status_changed'] },
      { kind: 'staff', id: 'test', name: 'test' },
    );
    hook.statuses.push(500, 503);
    await emitWebhookEvent(deps, 'tenant.status_changed', { subject: 't-1', data: { to: 'revoked' } });
    await emitWebhookEvent(deps, 'tenant.status_changed', { subject: 't-1', data: { to: 'active' } });

    expect(await deliverEndpoint(deps, endpoint.id)).toBe(0); // 500: the first waits, the second behind it
    expect(hook.received).toHaveLength(1);
    clock += 10_000;
    expect(await deliverEndpoint(deps, endpoint.id)).toBe(0); // not due yet (30 s)
    expect(hook.received).toHaveLength(1);
    clock += 25_000;
    expect(await deliverEndpoint(deps, endpoint.id)).toBe(0); // 503
    clock += 70_000;
    expect(await deliverEndpoint(deps, endpoint.id)).toBe(2);
    const order = hook.received.map((r) => (JSON.parse(r.body) as { data: { to: string } }).data.to);
    expect(order).toEqual(['revoked', 'revoked', 'revoked', 'active']);
    // A retry is the same event: same id, signed anew for its time.
    expect(new Set(hook.received.slice(0, 3).map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of hook.received) expect(verified(secret, r, Math.floor(clock / 1000))).toBe(true);
    const log = await b.webhooks.recentDeliveries(endpoint.id, 10);
    expect(log.map((d) => [d.status, d.attempts])).toEqual([
      ['delivered', 1],
      ['delivered', 3],
    ]);
  });

  it('disables an endpoint after a day of failures, queues nothing new for it, and resumes when enabled', async () => {
    const { endpoint } = await registerWebhook(
      deps,
      { url: hook.url, events: ['consent.revoked'] },
      { kind: 'staff', id: 'test', name: 'test' },
    );
    const seen = hook.received.length;
    for (let i = 0; i < 100; i++) hook.statuses.push(500);
    await emitWebhookEvent(deps, 'consent.revoked', { subject: 't-2', data: { n: 1 } });
    const start = clock;
    // Every 66 minutes (the backoff reaches an hour, plus up to 10 % jitter), until the endpoint gives up.
    for (let i = 0; i < 60 && (await b.webhooks.getEndpoint(endpoint.id))!.status === 'active'; i++) {
      await deliverEndpoint(deps, endpoint.id);
      clock += 3_960_000;
    }
    const disabled = (await b.webhooks.getEndpoint(endpoint.id))!;
    expect(Date.parse(disabled.disabledAt!) - start).toBeGreaterThanOrEqual(DELIVERY_WINDOW_MS);
    expect(disabled.status).toBe('disabled');
    expect(disabled.lastError).toBe('the endpoint answered 500');
    const attempts = hook.received.length - seen;
    expect(attempts).toBeGreaterThan(5);
    expect(attempts).toBeLessThan(40);
    expect((await b.webhooks.recentDeliveries(endpoint.id, 5))[0]).toMatchObject({ status: 'failed' });

    expect(await emitWebhookEvent(deps, 'consent.revoked', { subject: 't-2', data: { n: 2 } })).not.toContain(
      endpoint.id,
    );
    hook.statuses.length = 0;
    await b.webhooks.updateEndpoint({ ...disabled, status: 'active', disabledAt: null });
    await emitWebhookEvent(deps, 'consent.revoked', { subject: 't-2', data: { n: 3 } });
    expect(await deliverEndpoint(deps, endpoint.id)).toBe(1);
    expect(JSON.parse(hook.received.at(-1)!.body)).toMatchObject({ data: { n: 3 } });
  });
});
