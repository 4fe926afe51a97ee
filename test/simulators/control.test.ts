import { inject, describe, expect, it } from 'vitest';

describe('simulator control surface', () => {
  it('is reached over HTTPS with the sandbox CA trusted by the test process', async () => {
    const res = await fetch(`${inject('controlUrl')}/_sim/tenants/${inject('sandbox').customers.contoso}`);
    expect(res.status).toBe(200);
    const tenant = (await res.json()) as { displayName: string; domains: { name: string }[] };
    expect(tenant.displayName).toBe('Contoso Ltd');
    expect(tenant.domains.map((d) => d.name)).toContain('contoso.example');
  });

  it('answers 404 with a JSON error for an unknown tenant', async () => {
    const res = await fetch(`${inject('controlUrl')}/_sim/tenants/00000000-0000-0000-0000-000000000000`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NotFound', message: expect.stringContaining('no tenant') },
    });
  });

  it('refuses a malformed body with 400', async () => {
    const res = await fetch(`${inject('controlUrl')}/_sim/tenants`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
  });
});
