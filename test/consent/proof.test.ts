/**
 * Proof of consent with the real MSAL adapter and Graph adapter against the simulators (FACTS.md §4.1: the
 * roles in an app-only token are the proof; the tenant parameter is not).
 * @module
 */
import { bundleApps } from '../../src/credentials/bundle-apps.js';
import { HOME_APP_ONLY } from '../helpers/vend-deps.js';
import { describe, expect, inject, it } from 'vitest';
import { createMsalEntraTokens } from '../../src/adapters/entra/msal.js';
import { createGraphDirectory } from '../../src/adapters/graph/graph-client.js';
import { proveConsent } from '../../src/consent/proof.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { control, newTenant } from '../helpers/sim-control.js';

async function deps() {
  const entra = createMsalEntraTokens({
    authorityHost: inject('entraUrl'),
    clientId: inject('sandbox').homeApp.clientId,
    credential: { kind: 'secret', secret: inject('sandbox').homeApp.clientSecret },
  });
  const graph = createGraphDirectory({
    graphEndpoint: inject('graphUrl'),
    accessToken: async (t) =>
      (await entra.acquireAppToken(t, 'https://graph.microsoft.com/.default')).accessToken,
  });
  const profiles = await loadProfiles(undefined);
  return {
    entra,
    graph,
    profiles,
    apps: bundleApps(profiles, { ...HOME_APP_ONLY, homeAppClientId: homeApp() }),
  };
}
const ALL = [
  'exchange-imap',
  'exchange-pop',
  'exchange-smtp',
  'exchange-ews',
  'graph-mail',
  'graph-calendar-contacts',
];
const homeApp = () => inject('sandbox').homeApp.clientId;

describe('proveConsent', () => {
  it('reads granted roles per resource, nothing missing, and the organization for a full consent', async () => {
    const tenant = await newTenant('Proof Full', ['prooffull.example']);
    const sp = await control<{ objectId: string }>('POST', `/_sim/tenants/${tenant}/consents`, {
      appId: homeApp(),
    });
    const result = await proveConsent(await deps(), tenant, ALL);
    expect(result).toMatchObject({
      kind: 'proven',
      servicePrincipalId: sp.objectId,
      missingRoles: {},
      displayName: 'Proof Full',
      verifiedDomains: expect.arrayContaining(['prooffull.example']),
    });
    if (result.kind !== 'proven') throw new Error('not proven');
    expect(result.grantedRoles['https://outlook.office365.com/.default']).toEqual([
      'IMAP.AccessAsApp',
      'POP.AccessAsApp',
      'SMTP.SendAsApp',
      'full_access_as_app',
    ]);
    expect(result.grantedRoles['https://graph.microsoft.com/.default']).toEqual(
      expect.arrayContaining([
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Contacts.ReadWrite',
        'Organization.Read.All',
      ]),
    );
  });

  it('names missing roles by profile, and the broker role when Organization.Read.All is missing', async () => {
    const tenant = await newTenant('Proof Partial');
    await control('POST', `/_sim/tenants/${tenant}/consents`, {
      appId: homeApp(),
      roles: {
        '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'],
        '00000003-0000-0000-c000-000000000000': ['Mail.Send'],
      },
    });
    const result = await proveConsent(await deps(), tenant, ['exchange-imap', 'exchange-smtp', 'graph-mail']);
    expect(result).toMatchObject({
      kind: 'proven',
      missingRoles: {
        'exchange-smtp': ['SMTP.SendAsApp'],
        'graph-mail': ['Mail.ReadWrite'],
        broker: ['Organization.Read.All'],
      },
      displayName: null,
    });
  });

  it('is unprovable (not refused) while the consent replicates: AADSTS700016', async () => {
    const tenant = await newTenant('Proof Replicating');
    await control('POST', `/_sim/tenants/${tenant}/consents`, {
      appId: homeApp(),
      replicationDelayMs: 60_000,
    });
    expect(await proveConsent(await deps(), tenant, ['exchange-imap'])).toMatchObject({
      kind: 'unprovable',
      code: 'AADSTS700016',
    });
  });

  it('notes a resource the tenant lacks (no Exchange Online: AADSTS500011) and proves the rest', async () => {
    const tenant = (
      await control<{ id: string }>('POST', '/_sim/tenants', {
        displayName: 'No Exchange',
        hasExchangeOnline: false,
      })
    ).id;
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: homeApp() });
    const result = await proveConsent(await deps(), tenant, ['exchange-imap', 'graph-mail']);
    expect(result).toMatchObject({
      kind: 'proven',
      missingRoles: { 'exchange-imap': ['IMAP.AccessAsApp'] },
      notes: [expect.objectContaining({ code: 'AADSTS500011' })],
    });
  });

  it('is unprovable when Entra ID is down', async () => {
    const tenant = await newTenant('Proof Outage');
    await control('POST', `/_sim/tenants/${tenant}/consents`, { appId: homeApp() });
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: `/${tenant}/oauth2`,
      count: 5,
    });
    expect(await proveConsent(await deps(), tenant, ['exchange-imap'])).toMatchObject({
      kind: 'unprovable',
      code: 'entra_unavailable',
    });
  });
});
