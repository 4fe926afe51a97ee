/**
 * URL redaction of the spans sent to Application Insights (src/adapters/telemetry/azure-monitor.ts): queries
 * and the consent link's code never leave the process. On the wire: test/integration/telemetry-export.test.ts.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { redactingSpanProcessor, redactUrl } from '../../src/adapters/telemetry/azure-monitor.js';

describe('redactUrl', () => {
  it.each([
    ['/consent/signin?code=abc&state=def', '/consent/signin?REDACTED'],
    ['/connect/Zx9_secret', '/connect/{code}'],
    ['/connect/Zx9_secret/go', '/connect/{code}/go'],
    [
      'https://broker.example.com/connect/Zx9/go?x=1#frag',
      'https://broker.example.com/connect/{code}/go?REDACTED',
    ],
    ['https://user:pw@vault.example/secrets/a?api-version=7.5', 'https://vault.example/secrets/a?REDACTED'],
    ['/oauth2/token', '/oauth2/token'],
    ['/api/connections', '/api/connections'],
  ])('%s → %s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });
});

describe('redactingSpanProcessor', () => {
  it('rewrites the URL attributes of a starting span and leaves the others', () => {
    const attributes: Record<string, unknown> = {
      'url.path': '/connect/secretcode',
      'url.query': 'code=abc&state=def',
      'url.full': 'https://h.example/consent/signin?code=abc',
      'http.target': '/consent/callback?state=def',
      'http.request.method': 'GET',
    };
    const span = {
      attributes,
      setAttribute(key: string, value: unknown) {
        attributes[key] = value;
        return span;
      },
    };
    redactingSpanProcessor().onStart(span as never, undefined as never);
    expect(attributes).toEqual({
      'url.path': '/connect/{code}',
      'url.query': 'REDACTED',
      'url.full': 'https://h.example/consent/signin?REDACTED',
      'http.target': '/consent/callback?REDACTED',
      'http.request.method': 'GET',
    });
  });
});
