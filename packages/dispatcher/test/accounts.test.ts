import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountStore, type LoginAttempt, LoginGuard, LoginThrottle } from '../src/index.js';

describe('accounts', () => {
  let dir: string;
  let accounts: AccountStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'accounts-'));
    accounts = new AccountStore(join(dir, 'accounts.db'));
  });
  afterEach(async () => {
    accounts.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sign up, log in with the right password only, and survive a restart', async () => {
    const ada = await accounts.signUp('Ada', 'correct horse');
    expect(ada).toMatchObject({ username: 'ada', guest: false });
    expect(await accounts.logIn('ada', 'correct horse')).toEqual(ada);
    expect(await accounts.logIn('ADA ', 'correct horse')).toEqual(ada);
    expect(await accounts.logIn('ada', 'wrong horse')).toBeNull();
    expect(await accounts.logIn('nobody', 'correct horse')).toBeNull();
    accounts.close();
    accounts = new AccountStore(join(dir, 'accounts.db'));
    expect(accounts.get(ada.id)).toEqual(ada);
  });

  it('refuse taken and malformed names and short passwords with a reason', async () => {
    await accounts.signUp('ada', 'correct horse');
    const reasons = await Promise.all(
      [
        ['ada', 'another password'],
        ['a', 'correct horse'],
        ['-ada', 'correct horse'],
        ['<script>', 'correct horse'],
        ['bob', 'short'],
      ].map(([name, password]) =>
        accounts.signUp(name as string, password as string).then(
          () => 'accepted',
          (err: { reason: string }) => err.reason,
        ),
      ),
    );
    expect(reasons).toEqual(['username-taken', 'bad-username', 'bad-username', 'bad-username', 'bad-password']);
  });

  it('make guests that have no password to log in with', async () => {
    const [a, b] = [await accounts.guest(), await accounts.guest()];
    expect(a.guest && b.guest).toBe(true);
    expect(a.username).not.toBe(b.username);
    expect(await accounts.logIn(a.username, '')).toBeNull();
    // Fifty at once (one commit for all): fifty accounts, each kept, none shared.
    const many = await Promise.all(Array.from({ length: 50 }, () => accounts.guest()));
    expect(new Set(many.map((g) => g.id)).size).toBe(50);
    expect(new Set(many.map((g) => g.username)).size).toBe(50);
    for (const guest of many) expect(accounts.get(guest.id)).toEqual(guest);
  });
});

describe('LoginThrottle', () => {
  it('lets a few failures pass, then makes each attempt wait longer, until a success', () => {
    const throttle = new LoginThrottle({ freeAttempts: 3, baseLockMs: 1_000, maxLockMs: 4_000 });
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) throttle.failed('ada', now);
    expect(throttle.retryAfterMs('ada', now)).toBe(0);
    throttle.failed('ada', now);
    expect(throttle.retryAfterMs('ada', now)).toBe(1_000);
    throttle.failed('ada', now);
    expect(throttle.retryAfterMs('ada', now)).toBe(2_000);
    for (let i = 0; i < 5; i++) throttle.failed('ada', now);
    expect(throttle.retryAfterMs('ada', now)).toBe(4_000);
    expect(throttle.retryAfterMs('bob', now)).toBe(0);
    throttle.succeeded('ada');
    expect(throttle.retryAfterMs('ada', now)).toBe(0);
  });

  it('forgets the failures of a key that has been quiet for long, once its wait is over', () => {
    const throttle = new LoginThrottle({ freeAttempts: 1, baseLockMs: 1_000, forgetAfterMs: 60_000 });
    throttle.failed('ada', 0);
    throttle.failed('ada', 0);
    expect(throttle.retryAfterMs('ada', 500)).toBe(500);
    // Not forgotten yet: a third failure waits twice as long.
    throttle.failed('ada', 30_000);
    expect(throttle.retryAfterMs('ada', 30_000)).toBe(2_000);
    // Quiet for more than a minute: the next failure counts as the first.
    throttle.failed('ada', 100_000);
    expect(throttle.retryAfterMs('ada', 100_000)).toBe(0);
  });
});

describe('LoginGuard', () => {
  const now = 5_000_000;
  const attempt = (username: string, address = '192.0.2.1', device: string | null = null): LoginAttempt => ({
    username,
    address,
    device,
  });

  it('locks an account under attack, not the other accounts behind the same address', () => {
    const guard = new LoginGuard({ account: { freeAttempts: 5 }, address: { freeAttempts: 100 } });
    for (let i = 0; i < 6; i++) guard.failed(attempt('ada'), now);
    expect(guard.retryAfterMs(attempt('ada'), now)).toBeGreaterThan(0);
    // From the same address, and from another one: the account waits.
    expect(guard.retryAfterMs(attempt('ada', '198.51.100.9'), now)).toBeGreaterThan(0);
    expect(guard.retryAfterMs(attempt('bob'), now)).toBe(0);
  });

  it('slows an address that guesses at many accounts, far later than one account', () => {
    const guard = new LoginGuard({ account: { freeAttempts: 5 }, address: { freeAttempts: 20 } });
    for (let i = 0; i < 20; i++) guard.failed(attempt(`user${i}`), now);
    expect(guard.retryAfterMs(attempt('newcomer'), now)).toBe(0);
    guard.failed(attempt('user20'), now);
    expect(guard.retryAfterMs(attempt('newcomer'), now)).toBeGreaterThan(0);
    // Another address is not concerned.
    expect(guard.retryAfterMs(attempt('newcomer', '198.51.100.9'), now)).toBe(0);
  });

  it('a success clears the account, never the address an attacker could reset with log-ins of their own', () => {
    const guard = new LoginGuard({ account: { freeAttempts: 2 }, address: { freeAttempts: 3 } });
    for (let i = 0; i < 3; i++) guard.failed(attempt('ada'), now);
    expect(guard.retryAfterMs(attempt('ada'), now)).toBeGreaterThan(0);
    guard.succeeded(attempt('mallory'));
    guard.failed(attempt('bob'), now);
    expect(guard.retryAfterMs(attempt('carol'), now)).toBeGreaterThan(0);
    const later = now + 60 * 60_000;
    guard.succeeded(attempt('ada', '198.51.100.9'));
    expect(guard.retryAfterMs(attempt('ada', '198.51.100.9'), later)).toBe(0);
  });

  it("lets a known device of the account in while others guess at it, with a budget of the device's own", () => {
    const guard = new LoginGuard({ account: { freeAttempts: 5 }, address: { freeAttempts: 10 } });
    for (let i = 0; i < 50; i++) guard.failed(attempt('ada'), now);
    expect(guard.retryAfterMs(attempt('ada'), now)).toBeGreaterThan(0);
    // The owner's browser, behind the same (locked) address.
    expect(guard.retryAfterMs(attempt('ada', '192.0.2.1', 'device-1'), now)).toBe(0);
    // That device guessing wrongly locks only itself.
    for (let i = 0; i < 6; i++) guard.failed(attempt('ada', '192.0.2.1', 'device-1'), now);
    expect(guard.retryAfterMs(attempt('ada', '192.0.2.1', 'device-1'), now)).toBeGreaterThan(0);
    expect(guard.retryAfterMs(attempt('ada', '192.0.2.1', 'device-2'), now)).toBe(0);
  });
});
