import { type KeyObject, sign, verify } from 'node:crypto';
import type { AnnouncementSigner, Contact } from '@p2p-messenger/discovery';
import type { PeerIdentity } from '@p2p-messenger/proto';
import { ed25519PublicKeyFromRaw } from '../identity/keys.js';
import type { LocalIdentity } from '../identity/local-identity.js';

/** What the signer needs from the peer. */
export interface SignerHost {
  identity: LocalIdentity;
  /** The signing key of a peer already verified, if any. */
  knownKey(peerId: string): Buffer | undefined;
  /** Greets `contact` expecting `peerId`; resolves to its verified record (the key hashes to the id). */
  fetchIdentity(peerId: string, contact: Contact): Promise<PeerIdentity>;
  /** A verified record whose announcement also checked out: worth keeping. */
  learned(record: PeerIdentity, contact: Contact): void;
}

/**
 * Signs this peer's announcements with its identity key, and checks others' with the key
 * behind the id they claim. An unknown id's key is fetched through its greeting; it is kept
 * only when the announcement's signature checks out, so a forger cannot plant addresses.
 */
export class PeerAnnouncementSigner implements AnnouncementSigner {
  readonly #host: SignerHost;
  readonly #keys = new Map<string, { raw: Buffer; key: KeyObject }>();

  constructor(host: SignerHost) {
    this.#host = host;
  }

  sign(data: Uint8Array): Uint8Array {
    return sign(null, data, this.#host.identity.signingKey);
  }

  async verify(peerId: string, data: Uint8Array, signature: Uint8Array, contact: Contact): Promise<boolean> {
    const known = this.#host.knownKey(peerId);
    if (known) return verify(null, data, this.#keyObject(peerId, known), signature);
    let record: PeerIdentity;
    try {
      record = await this.#host.fetchIdentity(peerId, contact);
    } catch {
      // Nobody at that address can prove the id: as good as forged.
      return false;
    }
    const genuine = verify(null, data, this.#keyObject(peerId, record.signingKey), signature);
    if (genuine) this.#host.learned(record, contact);
    return genuine;
  }

  #keyObject(peerId: string, raw: Buffer): KeyObject {
    const cached = this.#keys.get(peerId);
    if (cached?.raw.equals(raw)) return cached.key;
    const key = ed25519PublicKeyFromRaw(raw);
    this.#keys.set(peerId, { raw, key });
    return key;
  }
}
