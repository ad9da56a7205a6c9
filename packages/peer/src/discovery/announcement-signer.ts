import { type KeyObject, sign, verify } from 'node:crypto';
import { type AnnouncementSigner, backoffDelay, type Contact, KeyUnavailableError } from '@p2p-messenger/discovery';
import type { PeerIdentity } from '@p2p-messenger/proto';
import { ed25519PublicKeyFromRaw } from '../identity/keys.js';
import type { LocalIdentity } from '../identity/local-identity.js';
import { peerIdFromSigningKey } from '../identity/peer-id.js';

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

/** Keys fetched at once: on a busy LAN, announcements of strangers must not flood our greeting calls. */
const MAX_FETCHES = 4;
const FETCH_RETRY = { minDelayMs: 1_000, maxDelayMs: 30_000 };

const RAW_KEY_BYTES = 32;

/**
 * Signs this peer's announcements with its identity key (and has them carry the public key),
 * and checks others' with the key behind the id they claim: the key an announcement carries
 * when it hashes to the id (no round trip), else a known one, else one fetched through the
 * greeting, kept only when the announcement's signature checks out, so a forger cannot plant
 * addresses.
 */
export class PeerAnnouncementSigner implements AnnouncementSigner {
  readonly #host: SignerHost;
  readonly #keys = new Map<string, { raw: Buffer; key: KeyObject }>();
  #fetching = 0;
  /** Id@host whose key could not be fetched there: not asked again before `retryAt` (per host, so a forger elsewhere cannot hold the real peer back). */
  readonly #failures = new Map<string, { count: number; retryAt: number }>();

  constructor(host: SignerHost) {
    this.#host = host;
  }

  get signingKey(): Uint8Array {
    return this.#host.identity.signingKeyRaw;
  }

  /**
   * The signing key of `peerId` if an announcement carried it (it hashes to the id) or a
   * verified record gave it: whatever the announcement said, this key is the id's own.
   */
  keyOf(peerId: string): Buffer | undefined {
    return this.#keys.get(peerId)?.raw;
  }

  sign(data: Uint8Array): Uint8Array {
    return sign(null, data, this.#host.identity.signingKey);
  }

  async verify(
    peerId: string,
    data: Uint8Array,
    signature: Uint8Array,
    contact: Contact,
    carriedKey?: Uint8Array,
  ): Promise<boolean> {
    if (carriedKey && carriedKey.length > 0)
      return this.#verifyCarried(peerId, data, signature, Buffer.from(carriedKey));
    const known = this.#host.knownKey(peerId);
    if (known) return verify(null, data, this.#keyObject(peerId, known), signature);
    const record = await this.#fetch(peerId, contact);
    const genuine = verify(null, data, this.#keyObject(peerId, record.signingKey), signature);
    if (genuine) this.#host.learned(record, contact);
    return genuine;
  }

  /** A carried key that does not hash to the id is someone else's: a forgery, whatever it signed. */
  #verifyCarried(peerId: string, data: Uint8Array, signature: Uint8Array, raw: Buffer): boolean {
    const cached = this.#keys.get(peerId);
    if (!cached?.raw.equals(raw)) {
      if (raw.length !== RAW_KEY_BYTES || peerIdFromSigningKey(raw) !== peerId) return false;
    }
    return verify(null, data, this.#keyObject(peerId, raw), signature);
  }

  async #fetch(peerId: string, contact: Contact): Promise<PeerIdentity> {
    const where = `${peerId}@${contact.host}`;
    const failure = this.#failures.get(where);
    if (failure && Date.now() < failure.retryAt) throw new KeyUnavailableError(`${peerId}: key fetch backing off`);
    if (this.#fetching >= MAX_FETCHES) throw new KeyUnavailableError('too many key fetches under way');
    this.#fetching++;
    try {
      const record = await this.#host.fetchIdentity(peerId, contact);
      this.#failures.delete(where);
      return record;
    } catch (err) {
      const count = (failure?.count ?? 0) + 1;
      this.#failures.set(where, { count, retryAt: Date.now() + backoffDelay(count - 1, FETCH_RETRY) });
      if (this.#failures.size > 4096) this.#failures.delete(this.#failures.keys().next().value as string);
      throw new KeyUnavailableError(
        `${peerId}: no key from ${contact.host}:${contact.port}: ${(err as Error).message}`,
      );
    } finally {
      this.#fetching--;
    }
  }

  #keyObject(peerId: string, raw: Buffer): KeyObject {
    const cached = this.#keys.get(peerId);
    if (cached?.raw.equals(raw)) return cached.key;
    const key = ed25519PublicKeyFromRaw(raw);
    this.#keys.set(peerId, { raw, key });
    return key;
  }
}
