/**
 * The start warning while appliances still use an ending profile (src/appliances/ending-profiles.ts), against
 * Azurite with the real appliance store: it names the profile, its end date, the counts and how to list them;
 * revoked appliances do not count; a profiles file with nothing ending warns of nothing.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { endingProfileWarnings } from '../../src/appliances/ending-profiles.js';
import { createApplianceStore } from '../../src/appliances/appliance-store.js';
import { loadProfiles, parseProfiles } from '../../src/profiles/profiles.js';
import { applianceRecord } from '../helpers/appliances.js';

const appliances = createApplianceStore(
  createDataTablesStorage({ kind: 'connectionString', connectionString: inject('tablesConnectionString') }),
);

describe('the start warning for ending profiles', () => {
  it('counts the active appliances on exchange-ews and their tenants, and says how to list them', async () => {
    const tenant = randomUUID();
    await appliances.create(applianceRecord({ tenantId: tenant, profiles: ['exchange-ews'] }));
    await appliances.create(
      applianceRecord({ tenantId: tenant, profiles: ['exchange-imap', 'exchange-ews'] }),
    );
    await appliances.create(applianceRecord({ tenantId: randomUUID(), profiles: ['exchange-imap'] }));
    const warnings = await endingProfileWarnings({ profiles: await loadProfiles(undefined), appliances });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^Profile exchange-ews ends on 2027-04-01 \(.*\); (\d+) active appliance\(s\) of (\d+) tenant\(s\) still use it: GET \/api\/appliances\?profile=exchange-ews lists them; move them to graph-mail or graph-calendar or graph-directory or graph-presence\.$/,
    );
    const [, count, tenants] = /(\d+) active appliance\(s\) of (\d+) tenant/.exec(warnings[0]!)!;
    expect(Number(count)).toBeGreaterThanOrEqual(2); // other test files may add their own
    expect(Number(tenants)).toBeGreaterThanOrEqual(1);
  });

  it('warns of nothing when no profile is ending', async () => {
    const profiles = parseProfiles(
      {
        resources: {
          exchange: {
            scope: 'https://outlook.office365.com/.default',
            appId: '00000002-0000-0ff1-ce00-000000000000',
            displayName: 'Exchange',
          },
        },
        profiles: [
          {
            name: 'exchange-ews',
            title: 'EWS',
            resource: 'exchange',
            roles: [
              { value: 'full_access_as_app', id: 'dc890d15-9560-4a4c-9b7f-a736ec74ec40', description: 'EWS' },
            ],
          },
        ],
      },
      'test.json',
    );
    expect(await endingProfileWarnings({ profiles, appliances })).toEqual([]);
  });
});
