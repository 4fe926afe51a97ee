import { describe, expect, it } from 'vitest';
import { compileRoute } from '../../local/functions-host.js';

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
