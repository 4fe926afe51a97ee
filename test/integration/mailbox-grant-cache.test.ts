/**
 * A grant's access tokens are cached as app-only ones are (src/grants/grant-tokens.ts `grantTokenSource`,
 * src/vending/token-cache.ts): many appliance requests at once cost Entra one refresh, a cached token is served
 * while Entra is down, and without one the appliance gets 503 with Retry-After within 5 s, never a hang. A grant
 * revoked or re-authorised is refused from memory without Entra (src/directory/record-directory.ts).
 * @module
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consentedTenant } from '../helpers/consented-tenant.js';
import {
  activeGrantWithHandle,
  refreshWithHandle,
  grantFixture,
  type GrantFixture,
} from '../helpers/mailbox-grant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let f: GrantFixture;
let domain: string;

const IMAP = 'https://outlook.office365.com/IMAP.AccessAsUser.All';
const SMTP = 'https://outlook.office365.com/SMTP.Send';

beforeAll(async () => {
  broker = await startTestBroker();
  const admin = await broker.staffToken();
  const tenant = await consentedTenant(broker.url, admin, 'Grant Cache Ltd');
  domain = tenant.domain;
  f = await grantFixture(broker.url, admin, tenant.tenantId, ['user-imap', 'user-smtp'], 'PBX-CACHE');
}, 60_000);

afterEach(async () => {
  await control('DELETE', '/_sim/faults');
});

afterAll(async () => {
  await broker?.close();
});

const entraFetches = async () => (await broker.instance()).grantTokens.stats().entraRequests;

describe('a grant’s access tokens from memory', () => {
  it('fetches once for many requests at once, and answers later ones from memory', async () => {
    const { handle } = await activeGrantWithHandle(f, `cache1@${domain}`, ['user-imap']);
    const before = await entraFetches();
    const answers = await Promise.all(Array.from({ length: 20 }, () => refreshWithHandle(f, handle, IMAP)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(1);
    expect(answers.every((a) => a.body.refresh_token === handle)).toBe(true);
    const later = await refreshWithHandle(f, handle, IMAP.toUpperCase().replace('HTTPS://', 'https://'));
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ access_token: answers[0]!.body.access_token, scope: IMAP });
    expect((await entraFetches()) - before).toBe(1);
  });

  it('serves the cached token while Entra is down, and 503 with Retry-After within 5 s for one not cached', async () => {
    const { handle } = await activeGrantWithHandle(f, `cache2@${domain}`, ['user-imap', 'user-smtp']);
    const warm = await refreshWithHandle(f, handle, IMAP);
    expect(warm.status).toBe(200);
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 7,
    });
    const during = await refreshWithHandle(f, handle, IMAP);
    expect(during.status).toBe(200);
    expect(during.body.access_token).toBe(warm.body.access_token);

    const down = await refreshWithHandle(f, handle, SMTP);
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('temporarily_unavailable');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 within 5 s when Entra hangs, and the grant stays active', async () => {
    const { id, handle } = await activeGrantWithHandle(f, `cache3@${domain}`, ['user-smtp']);
    await control('POST', '/_sim/faults', { target: 'entra', kind: 'slow', delayMs: 8_000 });
    const started = Date.now();
    const hung = await refreshWithHandle(f, handle, SMTP);
    const waited = Date.now() - started;
    expect(hung.status).toBe(503);
    expect(hung.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(waited).toBeLessThan(6_000);
    const b = await broker.instance();
    expect((await b.mailboxGrants.get(f.tenantId, id))?.status).toBe('active');
  }, 30_000);

  it('refuses a revoked grant at once from memory, without Entra', async () => {
    const { id, handle } = await activeGrantWithHandle(f, `cache4@${domain}`, ['user-imap']);
    expect((await refreshWithHandle(f, handle, IMAP)).status).toBe(200);
    const revoke = await fetch(`${broker.url}/api/tenants/${f.tenantId}/mailbox-grants/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${f.admin}` },
    });
    expect(revoke.status).toBe(200);
    const before = await entraFetches();
    const refused = await refreshWithHandle(f, handle, IMAP);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });
    expect(refused.body.error_description).toContain('revoked');
    expect(JSON.stringify(refused.body)).not.toContain('eyJ');
    expect((await entraFetches()) - before).toBe(0);
  });

  it('turns reauth_required once when Entra refuses the refresh, and refuses from memory after that', async () => {
    const user = `cache5@${domain}`;
    const { id, handle } = await activeGrantWithHandle(f, user, ['user-imap']);
    await control('PATCH', `/_sim/tenants/${f.tenantId}/users/${encodeURIComponent(user)}`, {
      accountEnabled: false,
    });
    const first = await refreshWithHandle(f, handle, IMAP);
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('invalid_grant');
    expect(first.body.error_description).toMatch(/disabled.*sign in again|sign in again.*disabled/);
    const before = await entraFetches();
    const again = await Promise.all([1, 2, 3].map(() => refreshWithHandle(f, handle, IMAP)));
    expect(again.map((a) => a.body.error)).toEqual(['invalid_grant', 'invalid_grant', 'invalid_grant']);
    expect((await entraFetches()) - before).toBe(0);
    const b = await broker.instance();
    expect(await b.mailboxGrants.get(f.tenantId, id)).toMatchObject({
      status: 'reauth_required',
      error: { code: 'AADSTS50057' },
    });
  });
});
