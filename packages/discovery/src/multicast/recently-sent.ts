/** Enough for a bridge's largest round, sent on two families. */
const REMEMBERED = 512;
/** Ed25519: the datagram ends with it (SignedAnnouncement's last field). */
const SIGNATURE_BYTES = 64;

/**
 * Our own recent datagrams (looked up by signature, compared whole): what we hear back of
 * them teaches us our addresses, and anything else claiming our id is a forgery.
 */
export class RecentlySent {
  readonly #datagrams = new Map<string, Buffer>();

  /** Remembers a datagram; returns it. */
  add(datagram: Buffer): Buffer {
    this.#datagrams.set(signatureOf(datagram), datagram);
    if (this.#datagrams.size > REMEMBERED) this.#datagrams.delete(this.#datagrams.keys().next().value as string);
    return datagram;
  }

  has(datagram: Buffer): boolean {
    return this.#datagrams.get(signatureOf(datagram))?.equals(datagram) ?? false;
  }
}

function signatureOf(datagram: Buffer): string {
  return datagram.subarray(-SIGNATURE_BYTES).toString('base64');
}
