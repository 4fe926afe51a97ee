/**
 * Sends one webhook request (issue 22): a POST over node:https (node:http only to an allowed loopback receiver),
 * connected to the address the host resolved to and that src/webhooks/target.ts allowed — the `lookup` given to
 * the socket answers with exactly that address, so the name cannot resolve to another one between the check and
 * the connection (DNS rebinding). The certificate is still checked against the host name (TLS SNI and
 * verification use the URL's host). A 10-second limit; redirects are not followed (a 3xx is a failed delivery).
 * @module
 */
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import { assertPublic, WebhookTargetRefused, type TargetPolicy } from '../../webhooks/target.js';

export interface WebhookResponse {
  readonly status: number;
}

export interface WebhookSender {
  /** POSTs `body` with `headers` to `url`; rejects with WebhookTargetRefused or a network error. */
  send(url: URL, headers: Readonly<Record<string, string>>, body: string): Promise<WebhookResponse>;
}

const TIMEOUT_MS = 10_000;

export function createHttpsWebhookSender(policy: TargetPolicy): WebhookSender {
  return {
    async send(url, headers, body) {
      const target = await resolveTarget(url, policy);
      const pinned: LookupFunction = (_host, options, callback) => {
        if (typeof options === 'object' && options.all)
          (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
            target,
          ]);
        else callback(null, target.address, target.family);
      };
      const client = url.protocol === 'https:' ? https : http;
      return new Promise<WebhookResponse>((resolve, reject) => {
        const req = client.request(
          url,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            lookup: pinned,
            timeout: TIMEOUT_MS,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('the webhook did not answer within 10 s')));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

/** Resolves the URL's host and checks every address; returns the one to connect to. */
async function resolveTarget(url: URL, policy: TargetPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    assertPublic(host, policy);
    return { address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 };
  }
  let found: { address: string; family: number }[];
  try {
    found = await lookup(host, { all: true });
  } catch {
    throw new WebhookTargetRefused(`the webhook's host ${host} does not resolve.`);
  }
  if (found.length === 0) throw new WebhookTargetRefused(`the webhook's host ${host} does not resolve.`);
  for (const a of found) assertPublic(a.address, policy);
  const first = found[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
