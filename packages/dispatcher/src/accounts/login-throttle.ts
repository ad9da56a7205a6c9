/**
 * Slows down password guessing: after `freeAttempts` failures for a key (a user name, or an
 * address), each further attempt must wait, doubling up to `maxLockMs`. A success clears the
 * key. Kept in memory: a restart forgives, which costs an attacker a restart of ours.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; lockedUntilMs: number }>();
  readonly #freeAttempts: number;
  readonly #baseLockMs: number;
  readonly #maxLockMs: number;

  constructor(init: { freeAttempts?: number; baseLockMs?: number; maxLockMs?: number } = {}) {
    this.#freeAttempts = init.freeAttempts ?? 5;
    this.#baseLockMs = init.baseLockMs ?? 1_000;
    this.#maxLockMs = init.maxLockMs ?? 15 * 60_000;
  }

  /** Milliseconds until the keys may try again (0: now). */
  retryAfterMs(keys: readonly string[], now = Date.now()): number {
    return Math.max(0, ...keys.map((key) => (this.#failures.get(key)?.lockedUntilMs ?? 0) - now));
  }

  failed(keys: readonly string[], now = Date.now()): void {
    for (const key of keys) {
      const entry = this.#failures.get(key) ?? { count: 0, lockedUntilMs: 0 };
      entry.count++;
      const over = entry.count - this.#freeAttempts;
      if (over > 0) entry.lockedUntilMs = now + Math.min(this.#maxLockMs, this.#baseLockMs * 2 ** (over - 1));
      this.#failures.set(key, entry);
    }
    if (this.#failures.size > 100_000) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }
}
