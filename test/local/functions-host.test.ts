import { describe, expect, it } from 'vitest';
import {
  compileRoute,
  LocalHeaders,
  LocalHttpRequest,
  LocalInvocationContext,
  routePath,
} from '../../local/functions-host.js';

describe('local Functions host route templates', () => {
  it('matches literals case-insensitively and decodes parameters', () => {
    const { match } = compileRoute('api/tenants/{tenantId}');
    expect(match('/api/tenants/abc%20d')).toEqual({ tenantId: 'abc d' });
    expect(match('/API/Tenants/x')).toEqual({ tenantId: 'x' });
    expect(match('/api/tenants')).toBeUndefined();
    expect(match('/api/tenants/x/y')).toBeUndefined();
  });

  it('supports Microsoft-shaped paths, constraints, optional and catch-all parameters', () => {
    expect(compileRoute('{tenant}/oauth2/v2.0/token').match('/contoso.example/oauth2/v2.0/token')).toEqual({
      tenant: 'contoso.example',
    });
    expect(compileRoute('api/x/{id:guid}').match('/api/x/1')).toEqual({ id: '1' });
    expect(compileRoute('api/x/{id?}').match('/api/x')).toEqual({});
    expect(compileRoute('files/{*rest}').match('/files/a/b/c')).toEqual({ rest: 'a/b/c' });
    expect(compileRoute('api/{id}').match('/api/%E0%A4%A')).toBeUndefined();
  });

  it('counts literal segments for precedence', () => {
    expect(compileRoute('.well-known/oauth-authorization-server').literalSegments).toBe(2);
    expect(compileRoute('{tenant}/oauth2/v2.0/token').literalSegments).toBe(3);
  });
});

describe('local Functions host request path', () => {
  it('takes a plain path as sent and normalizes anything the URL parser would rewrite', () => {
    expect(routePath('/oauth2/token')).toBe('/oauth2/token');
    expect(routePath('/contoso.example/oauth2/v2.0/token?x=1')).toBe('/contoso.example/oauth2/v2.0/token');
    expect(routePath('/api/tenants/../health')).toBe('/api/health');
    expect(routePath('/api/%2e%2e/health')).toBe('/health');
    expect(routePath('/.well-known/oauth-authorization-server')).toBe(
      '/.well-known/oauth-authorization-server',
    );
    expect(routePath('/api/a b')).toBe('/api/a%20b');
  });
});

describe('local Functions host request headers', () => {
  const raw = {
    authorization: 'Basic abc',
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'a, b',
    'set-cookie': ['x=1', 'y=2'],
  };

  it('answers get and has from the parsed headers, case-insensitively, with the caller appended to X-Forwarded-For', () => {
    const h = new LocalHeaders(raw, '10.0.0.9');
    expect(h.get('Authorization')).toBe('Basic abc');
    expect(h.get('missing')).toBeNull();
    expect(h.has('CONTENT-TYPE')).toBe(true);
    expect(h.get('x-forwarded-for')).toBe('10.0.0.9');
    expect(new LocalHeaders({ 'x-forwarded-for': '1.2.3.4' }, '10.0.0.9').get('X-Forwarded-For')).toBe(
      '1.2.3.4, 10.0.0.9',
    );
  });

  it('behaves as a web Headers for every other member', () => {
    const h = new LocalHeaders(raw, '10.0.0.9');
    const seen: Record<string, string> = {};
    h.forEach((v, k) => (seen[k] = v));
    expect(seen).toMatchObject({ authorization: 'Basic abc', accept: 'a, b', 'x-forwarded-for': '10.0.0.9' });
    expect(h.getSetCookie()).toEqual(['x=1', 'y=2']);
    h.set('authorization', 'Bearer t');
    expect(h.get('authorization')).toBe('Bearer t');
    expect([...new Headers(h).keys()]).toContain('content-type');
  });
});

describe('local Functions host request', () => {
  it('normalizes its url and query only when read', () => {
    const r = new LocalHttpRequest(
      'GET',
      'http://localhost:7071/api/x/../tenants?status=active&top=5',
      new Headers(),
      {},
      undefined,
    );
    expect(r.url).toBe('http://localhost:7071/api/tenants?status=active&top=5');
    expect(r.query.get('top')).toBe('5');
  });
});

describe('local Functions host invocation context', () => {
  it('has a fresh invocation id per invocation, the function name, leveled logs and extra inputs/outputs', () => {
    const lines: string[] = [];
    const a = new LocalInvocationContext('token', (l) => lines.push(l));
    const b = new LocalInvocationContext('token', (l) => lines.push(l));
    expect(a.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.invocationId).not.toBe(b.invocationId);
    a.log('x', 1);
    a.warn('w');
    a.error('e');
    expect(lines).toEqual(['[token] information: x 1', '[token] warning: w', '[token] error: e']);
    a.extraOutputs.set('out', 5);
    expect(a.extraOutputs.get('out')).toBe(5);
    expect(a.options.trigger).toEqual({ name: 'unknown', type: 'unknown' });
  });
});
