/**
 * The appliance store (src/appliances/appliance-store.ts) against Azurite: what it reads back, with each
 * profile list frozen (the directory hands the same record to every request).
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
  it('reads appliances back, each with its frozen profile list', async () => {
    const appliances = store();
    const a = appliance(['exchange-imap', 'graph-mail']);
    const b = appliance(['exchange-imap', 'graph-mail']);
    const c = appliance(['exchange-smtp']);
    for (const x of [a, b, c]) await appliances.create(x);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((x) => appliances.get(x.clientId)));
    expect(ra).toMatchObject({ clientId: a.clientId, profiles: ['exchange-imap', 'graph-mail'] });
    expect(rb!.profiles).toEqual(['exchange-imap', 'graph-mail']);
    expect(Object.isFrozen(ra!.profiles)).toBe(true);
    expect(rc!.profiles).toEqual(['exchange-smtp']);
  });
});
