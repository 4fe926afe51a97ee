import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  compileRoute,
  findRoute,
  httpRequest,
  invocationContext,
  requestHeaders,
  requestUrl,
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

  it('picks the first function whose route matches and that was registered with the method', () => {
    const fn = (name: string, route: string, methods: string[]) => ({
      name,
      methods,
      ...compileRoute(route),
    });
    const functions = [fn('health', 'api/health', ['GET']), fn('tenant', 'api/{id}', ['GET', 'DELETE'])];
    expect(findRoute(functions, 'GET', '/api/health')?.f.name).toBe('health');
    expect(findRoute(functions, 'DELETE', '/api/health')).toMatchObject({
      f: { name: 'tenant' },
      params: { id: 'health' },
    });
    expect(findRoute(functions, 'POST', '/api/x')).toBeUndefined();
  });
});

describe('local Functions host request URL', () => {
  it('normalizes the request target as the WHATWG URL parser does', () => {
    const path = (target: string) => requestUrl(target, 'localhost:7071')?.pathname;
    expect(path('/oauth2/token')).toBe('/oauth2/token');
    expect(path('/contoso.example/oauth2/v2.0/token?x=1')).toBe('/contoso.example/oauth2/v2.0/token');
    expect(path('/api/tenants/../health')).toBe('/api/health');
    expect(path('/api/%2e%2e/health')).toBe('/health');
    expect(path('/.well-known/oauth-authorization-server')).toBe('/.well-known/oauth-authorization-server');
    expect(path('/api/a b')).toBe('/api/a%20b');
    expect(requestUrl('/x?a=1', undefined)?.href).toBe('http://localhost/x?a=1');
    expect(requestUrl('/x', 'bad host')).toBeUndefined();
  });
});

describe('local Functions host request headers', () => {
  const raw = {
    authorization: 'Basic abc',
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'a, b',
    'set-cookie': ['x=1', 'y=2'],
  };

  it('passes one string per header, with the caller appended to X-Forwarded-For', () => {
    expect(requestHeaders(raw, '10.0.0.9')).toEqual({
      authorization: 'Basic abc',
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'a, b',
      'set-cookie': 'x=1, y=2',
      'x-forwarded-for': '10.0.0.9',
    });
    expect(requestHeaders({ 'x-forwarded-for': '1.2.3.4' }, '10.0.0.9')['x-forwarded-for']).toBe(
      '1.2.3.4, 10.0.0.9',
    );
  });
});

describe('local Functions host request', () => {
  const { HttpRequest } = createRequire(import.meta.url)(
    '@azure/functions',
  ) as typeof import('@azure/functions');
  const form = (body: string) =>
    httpRequest({
      method: 'POST',
      url: new URL('http://localhost:7071/api/x/../tenants/t1?status=active&top=5'),
      headers: requestHeaders({ 'content-type': 'application/x-www-form-urlencoded' }, '10.0.0.9'),
      params: { tenantId: 't1' },
      body: Buffer.from(body),
    });

  it("is the library's HttpRequest, with a web Headers, the query of its URL and the route's parameters", async () => {
    const r = form('a=1&b=two');
    expect(r).toBeInstanceOf(HttpRequest);
    expect(r.url).toBe('http://localhost:7071/api/tenants/t1?status=active&top=5');
    expect(r.query.get('top')).toBe('5');
    expect(r.params).toEqual({ tenantId: 't1' });
    expect(r.headers).toBeInstanceOf(Headers);
    expect(r.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded');
    expect(r.headers.get('x-forwarded-for')).toBe('10.0.0.9');
    expect([...(await r.formData()).entries()]).toEqual([
      ['a', '1'],
      ['b', 'two'],
    ]);
    expect(r.bodyUsed).toBe(true);
  });

  it('has no body when none was sent', async () => {
    const r = httpRequest({
      method: 'GET',
      url: new URL('http://localhost/api/health'),
      headers: {},
      params: {},
      body: Buffer.alloc(0),
    });
    expect(r.body).toBeNull();
    expect(await r.text()).toBe('');
  });
});

describe('local Functions host invocation context', () => {
  const { InvocationContext } = createRequire(import.meta.url)(
    '@azure/functions',
  ) as typeof import('@azure/functions');

  it("is the library's InvocationContext: a fresh invocation id, the function name, leveled logs", () => {
    const lines: string[] = [];
    const a = invocationContext('token', (l) => lines.push(l));
    const b = invocationContext('token', (l) => lines.push(l));
    expect(a).toBeInstanceOf(InvocationContext);
    expect(a.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.invocationId).not.toBe(b.invocationId);
    expect(a.functionName).toBe('token');
    a.log('x', 1);
    a.warn('w');
    a.error('e');
    expect(lines).toEqual(['[token] information: x 1', '[token] warning: w', '[token] error: e']);
    a.extraOutputs.set('out', 5);
    expect(a.extraOutputs.get('out')).toBe(5);
  });
});
