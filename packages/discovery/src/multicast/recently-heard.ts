import type { Announcement } from '@p2p-messenger/proto';

/** About two intervals of a busy LAN (50 peers, two families). */
const REMEMBERED = 256;
/** Ed25519: the datagram ends with it (SignedAnnouncement's last field). */
const SIGNATURE_BYTES = 64;

export interface HeardDatagram {
  datagram: Buffer;
  announcement: Announcement;
  signed: Uint8Array;
  signature: Uint8Array;
  /** Its signature checked out: the same bytes heard again need no second check. */
  genuine: boolean;
}

/**
 * Datagrams heard lately, decoded, looked up by signature and compared whole. Every
 * announcement comes twice on a dual-stack LAN (IPv4 and IPv6), and every peer hears every
 * peer: the second copy costs a comparison instead of a decode and a signature check.
 */
export class RecentlyHeard {
  readonly #heard = new Map<string, HeardDatagram>();

  get(datagram: Buffer): HeardDatagram | undefined {
    const heard = this.#heard.get(keyOf(datagram));
    return heard?.datagram.equals(datagram) ? heard : undefined;
  }

  add(heard: HeardDatagram): HeardDatagram {
    this.#heard.set(keyOf(heard.datagram), heard);
    if (this.#heard.size > REMEMBERED) this.#heard.delete(this.#heard.keys().next().value as string);
    return heard;
  }

  clear(): void {
    this.#heard.clear();
  }
}

function keyOf(datagram: Buffer): string {
  return datagram.toString('latin1', Math.max(0, datagram.length - SIGNATURE_BYTES));
}
