/**
 * Where a webhook may be delivered (issue 22): an `https` URL whose host resolves only to public unicast
 * addresses — never loopback, private (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast or reserved ones — so that a registered endpoint cannot make the broker reach into
 * its own network (OWASP SSRF Prevention Cheat Sheet: "validate the resolved IP", and use the address validated
 * for the connection, so that a second resolution cannot swap it: DNS rebinding, done by the sender,
 * src/adapters/webhooks/https-sender.ts). Ranges by ipaddr.js `range()`.
 * The sandbox allows its own receivers (`BROKER_WEBHOOK_PRIVATE_TARGETS=true`, set by local/start.ts), http on
 * loopback included.
 * @module
 */
import ipaddr from 'ipaddr.js';

export class WebhookTargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetRefused';
  }
}

export interface TargetPolicy {
  /** The sandbox's receivers: private and loopback addresses, and http to loopback. */
  readonly allowPrivate: boolean;
}

/** The URL as registered: absolute, https (http only to loopback where private targets are allowed), no credentials. */
export function checkWebhookUrl(value: unknown, policy: TargetPolicy): URL {
  if (typeof value !== 'string' || value.length > 2048)
    throw new WebhookTargetRefused('url must be an absolute https URL of at most 2,048 characters.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookTargetRefused('url must be an absolute https URL.');
  }
  const loopbackHttp =
    url.protocol === 'http:' &&
    policy.allowPrivate &&
    ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw new WebhookTargetRefused('url must be https.');
  if (url.username || url.password)
    throw new WebhookTargetRefused('url must not carry a user name or password.');
  if (url.hash) throw new WebhookTargetRefused('url must not have a fragment.');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(literal)) assertPublic(literal, policy);
  return url;
}

/** Throws WebhookTargetRefused unless `address` may be connected to under `policy`. */
export function assertPublic(address: string, policy: TargetPolicy): void {
  if (policy.allowPrivate) return;
  let parsed = ipaddr.parse(address);
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is that IPv4 address.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range !== 'unicast')
    throw new WebhookTargetRefused(
      `the webhook's host resolves to a ${range} address, which is not allowed.`,
    );
}
