/**
 * A profile that is ending (the profiles file's `deprecated`: `exchange-ews`, since EWS ends in Exchange Online
 * on 1 April 2027, https://techcommunity.microsoft.com/blog/exchange/exchange-online-ews-your-time-is-almost-up/4492361):
 * the file says so, the consent landing page says so in plain words, and from its end date new appliances and
 * onboardings asking for it are refused, naming the date and the replacements.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { landingPage } from '../../src/http/pages/index.js';
import { endedProfiles, loadProfiles } from '../../src/profiles/profiles.js';
import defaultProfiles from '../../src/profiles/default-profiles.json' with { type: 'json' };
import { homeAppRegistration, registrationForOnboarding } from '../../src/profiles/registration.js';
import { profileProblems } from '../helpers/profiles.js';

const profiles = await loadProfiles(undefined);

const problems = profileProblems;

describe('a deprecated profile', () => {
  it('is exchange-ews in the default file, ending on 1 April 2027 with Graph replacements', () => {
    expect(profiles.get('exchange-ews')!.deprecated).toMatchObject({
      endsOn: '2027-04-01',
      replacedBy: ['graph-mail', 'graph-calendar', 'graph-directory', 'graph-presence'],
    });
    // And its delegated counterpart, EWS as a user who signs in, ending with it.
    expect([...profiles.profiles.values()].filter((p) => p.deprecated).map((p) => p.name)).toEqual([
      'exchange-ews',
      'user-ews',
    ]);
    expect(profiles.get('user-ews')!.deprecated).toMatchObject({
      endsOn: '2027-04-01',
      replacedBy: ['user-calendar-contacts', 'user-mail-send'],
    });
  });

  it('refuses new uses from its end date, naming the date and the replacements, and not before', () => {
    expect(
      endedProfiles(profiles, ['exchange-ews', 'exchange-imap'], new Date('2027-03-31T23:59:59Z')),
    ).toEqual([]);
    expect(
      endedProfiles(profiles, ['exchange-imap', 'exchange-ews'], new Date('2027-04-01T00:00:00Z')),
    ).toEqual([
      expect.stringMatching(
        /^Profile exchange-ews ended on 2027-04-01: .*EWS.* Use graph-mail or graph-calendar or graph-directory or graph-presence instead\.$/,
      ),
    ]);
  });

  it('names a broken deprecation in the file', () => {
    const doc = structuredClone(defaultProfiles) as { profiles: Record<string, unknown>[] };
    doc.profiles[0]!.deprecated = { endsOn: 'April 2027', replacedBy: ['graph-fax'], reason: '' };
    expect(problems(doc)).toEqual([
      'profiles[0] ("exchange-imap").deprecated.endsOn: must be a date, YYYY-MM-DD, got "April 2027"',
      'profiles[0] ("exchange-imap").deprecated.reason: must say in plain words why it ends',
      'profiles ("exchange-imap").deprecated.replacedBy: names "graph-fax", not a profile',
    ]);
  });

  it('is said on the consent landing page, in plain words with the date', () => {
    const registration = homeAppRegistration(profiles);
    const asked = [profiles.get('exchange-ews')!, profiles.get('graph-mail')!];
    const page = landingPage({
      vendorName: 'Acme PBX',
      customerRef: 'site-1',
      profiles: asked,
      permissions: registrationForOnboarding(registration, asked),
      signInScopes: registration.signInScopes,
      goUrl: '/connect/k/go',
      expiresAt: new Date('2026-12-20T10:00:00Z'),
    });
    const text = page.body
      .toString()
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ');
    expect(text).toContain(
      `${asked[0]!.title} ends on 2027-04-01: Exchange Online blocks EWS since 1 October 2026`,
    );
    expect(text).toContain(
      `Acme PBX can do the same with: ${asked[1]!.title}; graph-calendar; graph-directory; graph-presence.`,
    );
  });
});
