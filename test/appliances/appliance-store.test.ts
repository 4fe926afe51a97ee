/**
 * The appliance store (src/appliances/appliance-store.ts) against Azurite: what it reads back, and that
 * appliances with the same profile list share one frozen array (the directory holds thousands of them).
 * @module
 */
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { createApplianceStore } from '../../src/appliances/appliance-store.js';
import { applianceRecord } from '../helpers/appliances.js';

const store = () =>
  createApplianceStore(
    createDataTablesStorage({ kind: 'connectionString', connectionString: inject('tablesConnectionString') }),
  );

const appliance = (profiles: string[]) => applianceRecord({ customerRef: 'STORE-1', profiles });

describe('appliance store', () => {
  it('reads appliances back, sharing one frozen profile list between appliances with the same list', async () => {
    const appliances = store();
    const a = appliance(['exchange-imap', 'graph-mail']);
    const b = appliance(['exchange-imap', 'graph-mail']);
    const c = appliance(['exchange-smtp']);
    for (const x of [a, b, c]) await appliances.create(x);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((x) => appliances.get(x.clientId)));
    expect(ra).toMatchObject({ clientId: a.clientId, profiles: ['exchange-imap', 'graph-mail'] });
    expect(rb!.profiles).toBe(ra!.profiles);
    expect(Object.isFrozen(ra!.profiles)).toBe(true);
    expect(rc!.profiles).toEqual(['exchange-smtp']);
    expect(rc!.profiles).not.toBe(ra!.profiles);
  });
});
