import { createCipheriv, createDecipheriv, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import { UnsealError } from '../errors.js';
import { x25519PublicKeyFromRaw } from '../identity/keys.js';
import { RandomPool } from '../util/random-pool.js';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES;
const CIPHER = 'chacha20-poly1305';

/** Message fields that are not secret but must not be changed on the way. */
export interface SealedMetadata {
  id: string;
  conversationId: string;
  senderId: string;
  recipientId: string;
  lamport: number;
  sentAtMs: number;
}

/**
 * Seals payloads between this peer and one other: X25519 between the two long-term sealing
 * keys, HKDF to one key per direction (bound to both ids), ChaCha20-Poly1305 with a random
 * nonce and the message metadata as associated data. A relay sees only ciphertext and can
 * neither read nor alter nor redirect a message.
 */
export class PairSealer {
  readonly #sealKey: Buffer;
  readonly #openKey: Buffer;
  readonly #random = new RandomPool();

  constructor(myId: string, mySealingKey: KeyObject, theirId: string, theirSealingKeyRaw: Uint8Array) {
    const shared = diffieHellman({
      privateKey: mySealingKey,
      publicKey: x25519PublicKeyFromRaw(theirSealingKeyRaw),
    });
    if (shared.every((byte) => byte === 0)) throw new UnsealError(`peer ${theirId} has a degenerate sealing key`);
    this.#sealKey = deriveKey(shared, myId, theirId);
    this.#openKey = deriveKey(shared, theirId, myId);
  }

  seal(plaintext: Uint8Array, meta: SealedMetadata): Buffer {
    const nonce = this.#random.take(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, this.#sealKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(meta), { plaintextLength: plaintext.length });
    // One output buffer: version, nonce, ciphertext (a stream cipher: as long as the plaintext), tag.
    const sealed = Buffer.allocUnsafe(HEADER_BYTES + plaintext.length + TAG_BYTES);
    sealed[0] = VERSION;
    nonce.copy(sealed, 1);
    let offset = HEADER_BYTES + cipher.update(plaintext).copy(sealed, HEADER_BYTES);
    offset += cipher.final().copy(sealed, offset);
    cipher.getAuthTag().copy(sealed, offset);
    return sealed;
  }

  open(sealed: Uint8Array, meta: SealedMetadata): Buffer {
    if (sealed.length < HEADER_BYTES + TAG_BYTES) throw new UnsealError('sealed payload is truncated');
    if (sealed[0] !== VERSION) throw new UnsealError(`unknown sealing version ${sealed[0]}`);
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const nonce = bytes.subarray(1, HEADER_BYTES);
    const ciphertext = bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, this.#openKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(meta), { plaintextLength: ciphertext.length });
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      const plaintext = decipher.update(ciphertext);
      const rest = decipher.final(); // empty for a stream cipher, but it checks the tag
      return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
    } catch {
      throw new UnsealError(`message ${meta.id} from ${meta.senderId} failed authentication`);
    }
  }
}

/** Bytes added by sealing, for size limits. */
export const SEALING_OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;

function deriveKey(shared: Buffer, fromId: string, toId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, 'p2pm-seal-v1', `${fromId}>${toId}`, 32));
}

function associatedData(meta: SealedMetadata): Buffer {
  return Buffer.from(
    `${meta.id}\n${meta.conversationId}\n${meta.senderId}\n${meta.recipientId}\n${meta.lamport}\n${meta.sentAtMs}`,
  );
}
