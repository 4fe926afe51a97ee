/**
 * Where webhooks may go (src/webhooks/target.ts): https only, and never to an address of the broker's own
 * network — loopback, private, link-local (cloud metadata), carrier-grade NAT, unique local, unspecified, or such
 * an IPv4 address written as IPv6 — unless the sandbox allows its own receivers.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { assertPublic, checkWebhookUrl, WebhookTargetRefused } from '../../src/webhooks/target.js';

const strict = { allowPrivate: false };

describe('webhook targets', () => {
  it('accepts an https URL with a public host, and refuses other schemes, credentials and fragments', () => {
    expect(checkWebhookUrl('https://hooks.example.com/broker?x=1', strict).toString()).toBe(
      'https://hooks.example.com/broker?x=1',
    );
    for (const bad of [
      'http://hooks.example.com/',
      'ftp://hooks.example.com/',
      'https://user:pw@hooks.example.com/',
      'https://hooks.example.com/#x',
      'not a url',
      42,
      `https://hooks.example.com/${'a'.repeat(2100)}`,
    ])
      expect(() => checkWebhookUrl(bad, strict), String(bad).slice(0, 40)).toThrow(WebhookTargetRefused);
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.9',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
  ])('refuses the address %s', (address) => {
    expect(() => assertPublic(address, strict)).toThrow(WebhookTargetRefused);
    const literal = address.includes(':') ? `[${address}]` : address;
    expect(() => checkWebhookUrl(`https://${literal}/hook`, strict)).toThrow(WebhookTargetRefused);
  });

  it('accepts public unicast addresses', () => {
    for (const address of ['20.190.160.1', '52.96.0.1', '2603:1036::1'])
      expect(() => assertPublic(address, strict)).not.toThrow();
  });

  it("allows the sandbox's loopback receivers, http included, only where private targets are allowed", () => {
    expect(() => checkWebhookUrl('http://127.0.0.1:8080/hook', strict)).toThrow(WebhookTargetRefused);
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', { allowPrivate: true }).port).toBe('8080');
    expect(() => checkWebhookUrl('http://10.0.0.1/hook', { allowPrivate: true })).toThrow(/https/);
  });
});
