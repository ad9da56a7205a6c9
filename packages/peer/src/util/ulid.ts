import { RandomPool } from './random-pool.js';

// Crockford base32: sorts lexicographically in the same order as the numbers it encodes.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_BYTES = 10;

/**
 * ULIDs: 48-bit millisecond time + 80 random bits, 26 characters, sortable. Ids made by one
 * generator are strictly increasing even within a millisecond or when the clock steps back.
 */
export class UlidGenerator {
  #lastTime = 0;
  /** encodeTime(#lastTime), kept: many ids share a millisecond. */
  #timePrefix = encodeTime(0);
  #lastRandom: Buffer = Buffer.alloc(RANDOM_BYTES);
  readonly #random = new RandomPool();

  /** `floor` lets a restarted peer continue after the largest id it made before. */
  constructor(floor?: string) {
    if (floor && isUlid(floor)) {
      this.#lastTime = decodeTime(floor);
      this.#timePrefix = encodeTime(this.#lastTime);
      this.#lastRandom = decodeRandom(floor);
    }
  }

  next(now = Date.now()): string {
    if (now > this.#lastTime) {
      this.#lastTime = now;
      this.#timePrefix = encodeTime(now);
      this.#lastRandom = this.#random.take(RANDOM_BYTES);
      // Leave headroom so that increments within one millisecond never overflow.
      this.#lastRandom[0] = (this.#lastRandom[0] ?? 0) & 0x7f;
    } else {
      increment(this.#lastRandom);
    }
    return this.#timePrefix + encodeRandom(this.#lastRandom);
  }
}

const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

function encodeTime(time: number): string {
  let out = '';
  let rest = time;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function decodeTime(id: string): number {
  let time = 0;
  for (let i = 0; i < TIME_CHARS; i++) time = time * 32 + ALPHABET.indexOf(id[i] ?? '0');
  return time;
}

const ALPHABET_CODES = [...ALPHABET].map((char) => char.charCodeAt(0));

function encodeRandom(bytes: Buffer): string {
  // 80 bits = 16 characters of 5 bits, most significant first; built flat (no rope of concats).
  const codes = new Array<number>(16);
  for (let i = 0, bit = 0; i < 16; i++, bit += 5) {
    const byte = bit >> 3;
    const pair = ((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0);
    codes[i] = ALPHABET_CODES[(pair >> (11 - (bit & 7))) & 31] ?? 48;
  }
  return String.fromCharCode(...codes);
}

function decodeRandom(id: string): Buffer {
  let value = 0n;
  for (const char of id.slice(TIME_CHARS)) value = (value << 5n) | BigInt(ALPHABET.indexOf(char));
  const bytes = Buffer.alloc(RANDOM_BYTES);
  for (let i = RANDOM_BYTES - 1; i >= 0; i--) {
    bytes[i] = Number(value & 255n);
    value >>= 8n;
  }
  return bytes;
}

function increment(bytes: Buffer): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const next = (bytes[i] ?? 0) + 1;
    bytes[i] = next & 0xff;
    if (next <= 0xff) return;
  }
}
