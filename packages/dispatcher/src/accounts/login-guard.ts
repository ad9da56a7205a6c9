import { DEFAULTS } from '../config/options.js';
import { LoginThrottle, type ThrottleLimits } from './login-throttle.js';

/** One password log-in, as the guard judges it. */
export interface LoginAttempt {
  /** The account tried (lower case). */
  username: string;
  /** The client's address: the socket's, or X-Forwarded-For's behind a trusted proxy. */
  address: string;
  /** A device this browser proved it logged in to this account from before (a signed cookie), or null. */
  device: string | null;
}

export interface LoginGuardLimits {
  /** Failures per account before each try waits (doubling). */
  account?: ThrottleLimits;
  /** Failures per client address: far looser, as many people may share one address. */
  address?: ThrottleLimits;
  /** Failures per known device and account. */
  device?: ThrottleLimits;
}

/**
 * Who may try a password now. An account under attack and an address guessing at many
 * accounts are slowed down separately, so a person guessing at one account locks out neither
 * the other accounts behind the same address nor (from a browser that logged in to it
 * before) the account's owner: a known device has a budget of its own, as OWASP's "device
 * cookies" describe. A success clears only what it proves: the account, or the device; never
 * the address, which an attacker could otherwise reset with log-ins of their own.
 */
export class LoginGuard {
  readonly #accounts: LoginThrottle;
  readonly #addresses: LoginThrottle;
  readonly #devices: LoginThrottle;

  constructor(limits: LoginGuardLimits = {}) {
    this.#accounts = new LoginThrottle({ freeAttempts: DEFAULTS.loginAccountAttempts, ...limits.account });
    this.#addresses = new LoginThrottle({ freeAttempts: DEFAULTS.loginAddressAttempts, ...limits.address });
    this.#devices = new LoginThrottle({ freeAttempts: DEFAULTS.loginAccountAttempts, ...limits.device });
  }

  /** Milliseconds until this attempt may be made (0: now). */
  retryAfterMs(attempt: LoginAttempt, now = Date.now()): number {
    if (attempt.device) return this.#devices.retryAfterMs(deviceKey(attempt), now);
    return Math.max(
      this.#accounts.retryAfterMs(attempt.username, now),
      this.#addresses.retryAfterMs(attempt.address, now),
    );
  }

  failed(attempt: LoginAttempt, now = Date.now()): void {
    if (attempt.device) {
      this.#devices.failed(deviceKey(attempt), now);
      return;
    }
    this.#accounts.failed(attempt.username, now);
    this.#addresses.failed(attempt.address, now);
  }

  succeeded(attempt: LoginAttempt): void {
    if (attempt.device) this.#devices.succeeded(deviceKey(attempt));
    else this.#accounts.succeeded(attempt.username);
  }
}

function deviceKey(attempt: LoginAttempt): string {
  return `${attempt.device}:${attempt.username}`;
}
