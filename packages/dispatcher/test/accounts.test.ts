import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountStore, LoginThrottle } from '../src/index.js';

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
    const keys = ['user:ada', 'ip:10.0.0.9'];
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) throttle.failed(keys, now);
    expect(throttle.retryAfterMs(keys, now)).toBe(0);
    throttle.failed(keys, now);
    expect(throttle.retryAfterMs(keys, now)).toBe(1_000);
    throttle.failed(keys, now);
    expect(throttle.retryAfterMs(['ip:10.0.0.9'], now)).toBe(2_000);
    for (let i = 0; i < 5; i++) throttle.failed(keys, now);
    expect(throttle.retryAfterMs(keys, now)).toBe(4_000);
    expect(throttle.retryAfterMs(['user:bob'], now)).toBe(0);
    throttle.succeeded(keys);
    expect(throttle.retryAfterMs(keys, now)).toBe(0);
  });
});
