import { describe, expect, it } from 'vitest';
import { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from '../src/index.js';

describe('password hashes', () => {
  it('verify the right password and refuse a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salt every hash, and verify hashes made at another cost', async () => {
    const [a, b] = [await hashPassword('same'), await hashPassword('same')];
    expect(a).not.toBe(b);
    const cheaper = await hashPassword('pw', { log2N: 10, r: 8, p: 1 });
    expect(await verifyPassword('pw', cheaper)).toBe(true);
  });

  it('treat malformed stored hashes and oversized passwords as a mismatch', async () => {
    for (const stored of ['', 'scrypt', 'md5$x', 'scrypt$99$8$1$c2FsdA$aGFzaA', 'scrypt$15$8$1$c2FsdA$short']) {
      expect(await verifyPassword('pw', stored)).toBe(false);
    }
    expect(await verifyPassword('x'.repeat(MAX_PASSWORD_CHARS + 1), await hashPassword('pw'))).toBe(false);
    await expect(hashPassword('x'.repeat(MAX_PASSWORD_CHARS + 1))).rejects.toThrow(/at most/);
  });
});
