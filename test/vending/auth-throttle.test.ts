import { describe, expect, it } from 'vitest';
import { createAuthThrottle, sourceKey } from '../../src/vending/auth-throttle.js';

describe('failed client authentication throttle', () => {
  it('blocks a client id after 10 failures in a minute until the window ends', () => {
    let t = 0;
    const throttle = createAuthThrottle(undefined, () => t);
    for (let i = 0; i < 9; i++) throttle.failure('c1', undefined);
    expect(throttle.blockedFor('c1', undefined)).toBe(0);
    throttle.failure('c1', undefined);
    t = 15_000;
    expect(throttle.blockedFor('c1', undefined)).toBe(45);
    expect(throttle.blockedFor('c2', undefined)).toBe(0);
    t = 60_000;
    expect(throttle.blockedFor('c1', undefined)).toBe(0);
  });

  it('blocks an address after 30 failures a minute, whatever client ids it names', () => {
    let t = 0;
    const throttle = createAuthThrottle(undefined, () => t);
    for (let i = 0; i < 30; i++) throttle.failure(`client-${i}`, '203.0.113.7');
    expect(throttle.blockedFor('someone-new', '203.0.113.7')).toBe(60);
    expect(throttle.blockedFor('someone-new', '198.51.100.1')).toBe(0);
    t = 59_500;
    expect(throttle.blockedFor(undefined, '203.0.113.7')).toBe(1);
  });

  it('stays within its key bound', () => {
    const throttle = createAuthThrottle(
      { perClientAtAddress: 1, perAddress: 1, windowMs: 60_000, maxKeys: 100 },
      () => 0,
    );
    for (let i = 0; i < 1_000; i++) throttle.failure(`c${i}`, undefined);
    expect(throttle.blockedFor('c999', undefined)).toBe(60);
    expect(throttle.blockedFor('c0', undefined)).toBe(0); // evicted
  });

  it("counts a client id's failures per source: wrong secrets from one address do not block it at another", () => {
    const throttle = createAuthThrottle(undefined, () => 0);
    for (let i = 0; i < 10; i++) throttle.failure('c1', '198.51.100.66');
    expect(throttle.blockedFor('c1', '198.51.100.66')).toBe(60);
    expect(throttle.blockedFor('c1', '203.0.113.7')).toBe(0);
    expect(throttle.blockedFor('c2', '198.51.100.66')).toBe(0);
  });

  it('counts an IPv6 source by its /64, however the address is written', () => {
    const throttle = createAuthThrottle(undefined, () => 0);
    for (let i = 0; i < 30; i++) throttle.failure(`client-${i}`, `2001:db8:1:2::${i.toString(16)}`);
    expect(throttle.blockedFor('someone-new', '2001:0DB8:0001:0002:ffff::1')).toBe(60);
    expect(throttle.blockedFor('someone-new', '2001:db8:1:3::1')).toBe(0);
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(throttle.size()).toEqual({ pairs: 30, addresses: 1 });
  });
});
