import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { base32Decode, base32Encode } from '../base32.js';
import type { AnnouncementSigner } from '../host.js';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * For harnesses and benchmarks of directories alone, without peers: the id is the public key
 * itself (base32), so a signature is checked without fetching anything. Announcements carry
 * the key all the same, as real peers' do (whose short ids are hashes of it): a carried key
 * other than the id's own makes a forgery.
 */
export class KeyInIdSigner implements AnnouncementSigner {
  readonly id: string;
  readonly signingKey: Buffer;
  readonly #privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#privateKey = privateKey;
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    this.signingKey = Buffer.from(spki.subarray(ED25519_SPKI_PREFIX.length));
    this.id = base32Encode(this.signingKey);
  }

  sign(data: Uint8Array): Uint8Array {
    return sign(null, data, this.#privateKey);
  }

  async verify(
    peerId: string,
    data: Uint8Array,
    signature: Uint8Array,
    _contact?: unknown,
    carriedKey?: Uint8Array,
  ): Promise<boolean> {
    try {
      const raw = base32Decode(peerId);
      if (raw.length !== 32) return false;
      if (carriedKey && carriedKey.length > 0 && !raw.equals(carriedKey)) return false;
      const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  }
}
