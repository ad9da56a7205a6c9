import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { base32Decode, base32Encode } from '../base32.js';
import type { AnnouncementSigner } from '../host.js';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * For harnesses and benchmarks of directories alone, without peers: the id is the public key
 * itself (base32), so a signature is checked without fetching anything. Real peers use
 * short hashed ids and fetch the key through the greeting.
 */
export class KeyInIdSigner implements AnnouncementSigner {
  readonly id: string;
  readonly #privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#privateKey = privateKey;
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    this.id = base32Encode(spki.subarray(ED25519_SPKI_PREFIX.length));
  }

  sign(data: Uint8Array): Uint8Array {
    return sign(null, data, this.#privateKey);
  }

  async verify(peerId: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    try {
      const raw = base32Decode(peerId);
      if (raw.length !== 32) return false;
      const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  }
}
