import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes with scrypt: deliberately slow (about 200 ms on a 2-core VM) and memory-hard, a random
 * salt per password. Stored as "scrypt$<log2 N>$<r>$<p>$<salt>$<hash>" (base64url), so the
 * cost can rise later and old hashes still verify.
 */
export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

const DEFAULT_COST: ScryptCost = { log2N: 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Longer passwords are refused before hashing: scrypt's cost grows with the input. */
export const MAX_PASSWORD_CHARS = 1_024;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  if (password.length > MAX_PASSWORD_CHARS)
    throw new RangeError(`a password has at most ${MAX_PASSWORD_CHARS} characters`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.log2N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `password` matches `stored`; false (not an error) for a malformed stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_CHARS) return false;
  const [scheme, log2N, r, p, salt, hash] = stored.split('$');
  const cost = { log2N: Number(log2N), r: Number(r), p: Number(p) };
  const valid =
    scheme === 'scrypt' &&
    Number.isInteger(cost.log2N) &&
    cost.log2N >= 10 &&
    cost.log2N <= 20 &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    cost.r <= 32 &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    cost.p <= 4 &&
    !!salt &&
    !!hash;
  if (!valid) return false;
  const expected = Buffer.from(hash as string, 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(salt as string, 'base64url'), cost);
  return timingSafeEqual(key, expected);
}
