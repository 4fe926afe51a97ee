/**
 * Throttling of failed client authentication at the token endpoint (issue 5, "Abuse"): per client id and
 * per source address, failures are counted in a fixed one-minute window; past the threshold the key is
 * blocked until the window ends, and every request from it gets 429 with Retry-After before any credential
 * is checked (so guessing is slowed, and a blocked key costs no HMAC or storage read).
 *
 * Thresholds: 10 failures a minute per client id (a PBX with a wrong secret retries far less often), 30 a
 * minute per source address (several PBXs behind one NAT). Memory is bounded: at most `maxKeys` keys per kind,
 * least recently used dropped first. Per instance: each instance throttles what it sees.
 * @module
 */

export interface ThrottleLimits {
  readonly perClient: number;
  readonly perAddress: number;
  readonly windowMs: number;
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perClient: 10,
  perAddress: 30,
  windowMs: 60_000,
  maxKeys: 100_000,
};

export interface AuthThrottle {
  /** Seconds to wait if the client id or the address is blocked now, else 0. */
  blockedFor(clientId: string | undefined, address: string | undefined): number;
  /** Counts a failed authentication. */
  failure(clientId: string | undefined, address: string | undefined): void;
}

export function createAuthThrottle(
  limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
  now: () => number = Date.now,
): AuthThrottle {
  const clients = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  const addresses = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  return {
    blockedFor(clientId, address) {
      const c = clientId ? clients.blockedFor(clientId, limits.perClient) : 0;
      const a = address ? addresses.blockedFor(address, limits.perAddress) : 0;
      return Math.max(c, a);
    },
    failure(clientId, address) {
      if (clientId) clients.add(clientId);
      if (address) addresses.add(address);
    },
  };
}

class WindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number,
  ) {}

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
    // Nothing counted (the usual case): no lookup, which over many clients is a cache miss per request.
    if (this.windows.size === 0) return 0;
    const w = this.windows.get(key);
    if (!w || w.count < limit) return 0;
    const left = w.start + this.windowMs - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }
}
