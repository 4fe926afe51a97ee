/**
 * Two broker instances sharing Table Storage (as two Functions instances do): a revocation made through one
 * is refused by the other once it reads the change journal — every 10 s, well within
 * 60 s (docs/decisions.md "Revocation within 60 s, warm path without I/O").
 * @module
 */
import { describe, expect, it } from 'vitest';
import { revokeAppliance } from '../../src/appliances/registry.js';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { InvalidClient } from '../../src/vending/errors.js';
import { issueToken } from '../../src/vending/issue.js';
import { consentHomeApp, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings } from './broker-host.js';
import { newTenantRecord } from '../../src/tenants/tenant-store.js';

describe('two instances', () => {
  it("see each other's revocations through the change journal", async () => {
    const [a, b] = await Promise.all([
      createBroker(loadConfig(sandboxSettings())),
      createBroker(loadConfig(sandboxSettings())),
    ]);
    const tenantId = await newTenant('Two Instances Ltd');
    await consentHomeApp(tenantId);
    const scope = 'https://outlook.office365.com/.default';
    await a.tenants.save({
      ...newTenantRecord(tenantId),
      status: 'active',
      displayName: 'Two Instances Ltd',
      customerRefs: ['TWO'],
      consentedAt: new Date().toISOString(),
      grantedRoles: { [scope]: ['IMAP.AccessAsApp'] },
      profiles: ['exchange-imap'],
    });
    const { registerAppliance } = await import('../../src/appliances/registry.js');
    const { appliance, clientSecret } = await registerAppliance(
      a,
      { customerRef: 'TWO', tenantId, profiles: ['exchange-imap'], method: 'client_secret' },
      { kind: 'system', id: 'test' },
    );
    const request = {
      authorization: `Basic ${Buffer.from(`${appliance.clientId}:${clientSecret}`).toString('base64')}`,
      form: new Map([
        ['grant_type', 'client_credentials'],
        ['scope', scope],
      ]),
    };
    expect((await issueToken(b, request)).token.accessToken).toMatch(/^eyJ/); // B caches the appliance

    const stored = await a.appliances.get(appliance.clientId);
    await revokeAppliance(a, stored!, { kind: 'system', id: 'test' });
    await (b.directory as unknown as { pollJournal(): Promise<void> }).pollJournal();
    await expect(issueToken(b, request)).rejects.toBeInstanceOf(InvalidClient);
  });
});
