import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Cryptographically random bytes, drawn from a pool refilled 4 KiB at a time: one
 * randomFillSync per few hundred nonces instead of one per nonce (a hot path when sealing).
 */
export class RandomPool {
  readonly #pool = Buffer.allocUnsafe(POOL_BYTES);
  #offset = POOL_BYTES;

  /** Fresh bytes, copied out of the pool (the caller may keep them). */
  take(length: number): Buffer {
    if (length > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(length));
    if (this.#offset + length > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const bytes = Buffer.from(this.#pool.subarray(this.#offset, this.#offset + length));
    // Never hand out the same bytes twice.
    this.#pool.fill(0, this.#offset, this.#offset + length);
    this.#offset += length;
    return bytes;
  }
}
