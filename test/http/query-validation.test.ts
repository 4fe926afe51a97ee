/**
 * A support route's query is read as its declaration describes it (src/http/routes/query.ts): only declared
 * names, once each, every value valid against the parameter's published schema; a refusal is a 400 naming the
 * parameter and the schema's rule.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { Problem } from '../../src/http/problem.js';
import { readQuery } from '../../src/http/routes/query.js';
import { applianceRoutes } from '../../src/http/routes/support-appliances.js';
import { checkRoutes, tenantRoutes } from '../../src/http/routes/support.js';
import type { HttpRequestLike } from '../../src/http/types.js';

const request = (query: string): HttpRequestLike => ({
  method: 'GET',
  url: `http://localhost/api/x?${query}`,
  headers: new Headers(),
  params: {},
  text: async () => '',
});

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof Problem && err.status === 400) return err.detail;
    throw err;
  }
  throw new Error('accepted');
}

describe('queries against their declared parameters', () => {
  it('reads integers as numbers and leaves out what is not given', () => {
    expect(readQuery(tenantRoutes.listTenants, request('top=7&status=active'))).toEqual({
      top: 7,
      status: 'active',
    });
    expect(readQuery(applianceRoutes.listAppliances, request(''))).toEqual({});
    expect(readQuery(checkRoutes.exchangeSetupScript, request('mailboxes=a@x.example,b@x.example'))).toEqual({
      mailboxes: ['a@x.example', 'b@x.example'],
    });
  });

  it.each([
    [tenantRoutes.listTenants, 'top=0', 'top must be at least 1.'],
    [tenantRoutes.listTenants, 'top=101', 'top must be at most 100.'],
    [tenantRoutes.listTenants, 'top=ten', 'top must be an integer.'],
    [tenantRoutes.listTenants, 'status=gone', 'status must be one of "pending_verification", "active"'],
    [tenantRoutes.listTenants, 'customerRef=', 'customerRef must be at least 1 character long.'],
    [tenantRoutes.listTenants, 'domain=not%20a%20domain', 'domain must be a DNS domain name.'],
    [
      tenantRoutes.listTenants,
      'continuationToken=%7B%7D',
      'continuationToken must be a continuation token this API issued.',
    ],
    [tenantRoutes.listTenants, 'colour=red', 'Unknown query parameter "colour"'],
    [tenantRoutes.listTenants, 'top=1&top=2', 'Query parameter "top" is given more than once.'],
    [tenantRoutes.listAudit, 'top=1001', 'top must be at most 1000.'],
    [tenantRoutes.listAudit, 'tenantId=nope', 'tenantId must be a GUID.'],
    [applianceRoutes.listAppliances, 'tenantId=nope', 'tenantId must be a GUID.'],
  ] as const)('%#: refuses ?%s: "%s"', (route, query, reason) => {
    expect(refusal(() => readQuery(route, request(query)))).toContain(reason);
  });
});
