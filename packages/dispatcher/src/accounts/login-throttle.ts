export interface ThrottleLimits {
  /** Failures of a key that cost nothing; each one after that makes the next try wait. */
  freeAttempts?: number;
  /** The first wait; it doubles with each further failure, up to `maxLockMs`. */
  baseLockMs?: number;
  maxLockMs?: number;
  /** A key with no failure for this long starts again from nothing. */
  forgetAfterMs?: number;
}

interface Failures {
  count: number;
  lastMs: number;
  lockedUntilMs: number;
}

const MAX_KEYS = 100_000;

/**
 * Slows down password guessing for one kind of key (an account, an address, a device):
 * after `freeAttempts` failures, each further attempt must wait, doubling up to `maxLockMs`.
 * Kept in memory: a restart forgives, which costs an attacker a restart of ours.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, Failures>();
  readonly #freeAttempts: number;
  readonly #baseLockMs: number;
  readonly #maxLockMs: number;
  readonly #forgetAfterMs: number;

  constructor(init: ThrottleLimits = {}) {
    this.#freeAttempts = init.freeAttempts ?? 5;
    this.#baseLockMs = init.baseLockMs ?? 1_000;
    this.#maxLockMs = init.maxLockMs ?? 15 * 60_000;
    this.#forgetAfterMs = init.forgetAfterMs ?? 60 * 60_000;
  }

  /** Milliseconds until `key` may try again (0: now). */
  retryAfterMs(key: string, now = Date.now()): number {
    const entry = this.#current(key, now);
    return entry ? Math.max(0, entry.lockedUntilMs - now) : 0;
  }

  failed(key: string, now = Date.now()): void {
    const entry = this.#current(key, now) ?? { count: 0, lastMs: now, lockedUntilMs: 0 };
    entry.count++;
    entry.lastMs = now;
    const over = entry.count - this.#freeAttempts;
    if (over > 0) entry.lockedUntilMs = now + Math.min(this.#maxLockMs, this.#baseLockMs * 2 ** (over - 1));
    // Re-inserted, so that the oldest key is the first one dropped when there are too many.
    this.#failures.delete(key);
    this.#failures.set(key, entry);
    if (this.#failures.size > MAX_KEYS) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }

  #current(key: string, now: number): Failures | undefined {
    const entry = this.#failures.get(key);
    if (entry && now - entry.lastMs > this.#forgetAfterMs && now >= entry.lockedUntilMs) {
      this.#failures.delete(key);
      return undefined;
    }
    return entry;
  }
}
