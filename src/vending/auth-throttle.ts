/**
 * Throttling of failed client authentication (docs/decisions.md "Abuse"): failures are counted in a
 * fixed one-minute window per source address and per (client id, source address); past the threshold the
 * key is blocked until the window ends, and every request from it gets 429 with Retry-After before any
 * credential is checked (so guessing is slowed, and a blocked key costs no keyed hash or storage read).
 *
 * Only failures are counted, and never per client id alone: client ids are not secret, so a count per client
 * id let anyone who sent ten wrong secrets a minute lock the real PBX out. An attacker elsewhere
 * blocks only its own source and its own (client id, source) pairs; the PBX at its own address is served.
 * Residual: a PBX that shares its address with the attacker (the same NAT, or the same IPv6 /64) is blocked
 * with it, and an attacker with many addresses guesses 10 secrets a minute per address (256-bit secrets).
 *
 * Sources are keyed as given (src/http/token-endpoint.ts `sourceAddress` strips a front end's `:port`),
 * except that an IPv6 address counts for its /64: one subscriber usually holds a whole /64, and could
 * otherwise take a fresh key per request.
 *
 * Thresholds: 10 failures a minute per (client id, source) (a PBX with a wrong secret retries far less
 * often), 30 a minute per source (several PBXs behind one NAT). Memory is bounded: at most `maxKeys` keys per
 * kind, least recently used dropped first. Per instance: each instance throttles what it sees.
 * @module
 */

export interface ThrottleLimits {
  /** Failures a window per (client id, source address). */
  readonly perClientAtAddress: number;
  /** Failures a window per source address, whatever client ids it names. */
  readonly perAddress: number;
  readonly windowMs: number;
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perClientAtAddress: 10,
  perAddress: 30,
  windowMs: 60_000,
  maxKeys: 100_000,
};

export interface AuthThrottle {
  /** Seconds to wait if the address, or the client id at that address, is blocked now, else 0. */
  blockedFor(clientId: string | undefined, address: string | undefined): number;
  /** Counts a failed authentication. */
  failure(clientId: string | undefined, address: string | undefined): void;
  /** Keys held now, per kind (for tests: bounded by `maxKeys`). */
  size(): { pairs: number; addresses: number };
}

export function createAuthThrottle(
  limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
  now: () => number = Date.now,
): AuthThrottle {
  const pairs = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  const addresses = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  return {
    blockedFor(clientId, address) {
      // Nothing counted (the usual case): no key built, no lookup.
      if (pairs.empty() && addresses.empty()) return 0;
      const source = sourceKey(address);
      const p = clientId ? pairs.blockedFor(pairKey(clientId, source), limits.perClientAtAddress) : 0;
      const a = source ? addresses.blockedFor(source, limits.perAddress) : 0;
      return Math.max(p, a);
    },
    failure(clientId, address) {
      const source = sourceKey(address);
      if (clientId) pairs.add(pairKey(clientId, source));
      if (source) addresses.add(source);
    },
    size: () => ({ pairs: pairs.size(), addresses: addresses.size() }),
  };
}

/** A client id at a source; without a source (a caller that passes none) the client id alone. */
function pairKey(clientId: string, source: string | undefined): string {
  return source === undefined ? clientId : `${source}\u0000${clientId}`;
}

/** The key of a source address: IPv4 as is, IPv6 by its /64 (the first four groups, zeros expanded). */
export function sourceKey(address: string | undefined): string | undefined {
  if (!address) return undefined;
  // IPv4, and IPv6 with an IPv4 tail (64:ff9b::/96 NAT64 would put every IPv4 client in one /64): as is.
  if (!address.includes(':') || address.includes('.')) return address;
  const lower = address.toLowerCase();
  const halves = lower.split('::');
  if (halves.length > 2) return lower;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const groups =
    halves.length === 2
      ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail]
      : head;
  if (groups.length < 4 || !groups.slice(0, 4).every((g) => /^[0-9a-f]{1,4}$/.test(g))) return lower;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

class WindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number,
  ) {}

  empty(): boolean {
    return this.windows.size === 0;
  }

  size(): number {
    return this.windows.size;
  }

  add(key: string): void {
    const t = this.now();
    const w = this.windows.get(key);
    this.windows.delete(key);
    this.windows.set(
      key,
      w && t - w.start < this.windowMs ? { start: w.start, count: w.count + 1 } : { start: t, count: 1 },
    );
    if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
  }

  blockedFor(key: string, limit: number): number {
    const w = this.windows.get(key);
    if (!w || w.count < limit) return 0;
    const left = w.start + this.windowMs - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }
}
