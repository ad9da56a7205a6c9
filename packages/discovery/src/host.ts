/** How this peer presents itself to directories (what announcements and registrations carry). */
export interface LocalPeerInfo {
  id: string;
  name: string;
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  /** A short human check of the key, for catalogs that show it. */
  fingerprint: string;
  /** Ids of peers it knows, newest first: passed on so that others learn of them. */
  knownPeerIds(): string[];
}

/** Where a peer's greeting service answers. */
export interface Contact {
  host: string;
  port: number;
}

/**
 * What a directory needs from its peer's identity: to sign its own announcements, and to
 * check someone else's. The peer checks a signature with the key behind the claimed id: the
 * key the announcement carries (it must hash to the id, else the announcement is a forgery),
 * else one it knows, else one fetched through the greeting at `contact` (which must hash to
 * the id too), so an announcement for another peer's id cannot be forged.
 * `verify` resolves false for a forgery, and rejects with KeyUnavailableError when the key
 * cannot be had now (nobody answered, or too many fetches are under way): the announcement
 * is dropped and a later one tried.
 */
export interface AnnouncementSigner {
  /**
   * The raw public key that announcements carry (signing_key), so that receivers check them
   * at once, without a greeting round trip. Absent where the id itself holds the key.
   */
  readonly signingKey?: Uint8Array;
  sign(data: Uint8Array): Uint8Array;
  /** `carriedKey`: the key the announcement carries; empty or absent when it carries none. */
  verify(
    peerId: string,
    data: Uint8Array,
    signature: Uint8Array,
    contact: Contact,
    carriedKey?: Uint8Array,
  ): Promise<boolean>;
}

/** What a greeting told about the peer at an address: for directories that know only addresses. */
export interface GreetedPeer {
  id: string;
  name: string;
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  addresses: string[];
  knownPeerIds: string[];
}

/** Greets the peer at `contact` and returns who it proved to be. */
export type Greeter = (contact: Contact) => Promise<GreetedPeer>;
