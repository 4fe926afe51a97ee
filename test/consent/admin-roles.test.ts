import { describe, expect, it } from 'vitest';
import { canGrantConsent } from '../../src/consent/admin-roles.js';

const GRAPH = '00000003-0000-0000-c000-000000000000';
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const ROLE = {
  ga: '62e90394-69f5-4237-9190-012177145e10',
  pra: 'E8611AB8-C189-46E8-94E1-60213AB1F814',
  caa: '158c047a-c907-4556-b7ef-446551a6b5f7',
  aa: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  helpdesk: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
};

describe('who can grant tenant-wide admin consent (FACTS.md §1.5, §14)', () => {
  it('Global Administrator and Privileged Role Administrator: anything, Graph app roles included', () => {
    expect(canGrantConsent([ROLE.ga], [EXCHANGE, GRAPH])).toBe(true);
    expect(canGrantConsent([ROLE.pra], [GRAPH])).toBe(true);
  });
  it('Cloud Application / Application Administrator: only when no Graph application permission is asked for', () => {
    expect(canGrantConsent([ROLE.caa], [EXCHANGE])).toBe(true);
    expect(canGrantConsent([ROLE.aa], [EXCHANGE])).toBe(true);
    expect(canGrantConsent([ROLE.caa], [EXCHANGE, GRAPH])).toBe(false);
  });
  it('other roles and no roles: never', () => {
    expect(canGrantConsent([ROLE.helpdesk], [EXCHANGE])).toBe(false);
    expect(canGrantConsent([], [EXCHANGE])).toBe(false);
  });
});
