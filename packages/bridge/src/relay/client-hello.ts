import { ClientHelloError } from './sni-errors.js';

const RECORD_HEADER = 5;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
/** A TLS plaintext record carries at most 2^14 bytes (RFC 8446 5.1). */
const MAX_RECORD_FRAGMENT = 16_384;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;
const MAX_HOST_NAME = 253;

/** Not enough bytes yet, or the server name the ClientHello asks for (null: none). */
export type HelloParse = { complete: false } | { complete: true; serverName: string | null };

/**
 * Reads the server name (SNI) from the first bytes of a TLS connection, without keeping any
 * state: call it again with more bytes while it answers `complete: false`. The ClientHello
 * may be split across records and across reads; `maxHelloBytes` bounds the handshake message.
 * Anything that is not a well-formed ClientHello throws ClientHelloError.
 */
export function parseClientHello(data: Buffer, maxHelloBytes: number): HelloParse {
  const fragments: Buffer[] = [];
  let gathered = 0;
  let helloLength = -1;
  let offset = 0;
  while (offset + RECORD_HEADER <= data.length) {
    const type = data[offset] as number;
    if (type !== CONTENT_HANDSHAKE) {
      throw new ClientHelloError('not-tls', `expected a TLS handshake record, got content type ${type}`);
    }
    if (data[offset + 1] !== 0x03) throw new ClientHelloError('not-tls', 'not a TLS record version');
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > MAX_RECORD_FRAGMENT) {
      throw new ClientHelloError('malformed', `a TLS record of ${length} bytes`);
    }
    const available = Math.min(length, data.length - offset - RECORD_HEADER);
    fragments.push(data.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + available));
    gathered += available;
    if (helloLength < 0 && gathered >= 4) helloLength = helloHeader(Buffer.concat(fragments), maxHelloBytes);
    if (helloLength >= 0 && gathered >= 4 + helloLength) {
      return { complete: true, serverName: serverNameOf(Buffer.concat(fragments).subarray(4, 4 + helloLength)) };
    }
    if (available < length) break;
    offset += RECORD_HEADER + length;
  }
  // An early look at the first byte turns garbage away before a whole header arrived.
  if (data.length > 0 && data[0] !== CONTENT_HANDSHAKE) {
    throw new ClientHelloError('not-tls', `expected a TLS handshake record, got content type ${data[0]}`);
  }
  return { complete: false };
}

/** The ClientHello's length, from the handshake header. */
function helloHeader(handshake: Buffer, maxHelloBytes: number): number {
  if (handshake[0] !== HANDSHAKE_CLIENT_HELLO) {
    throw new ClientHelloError('malformed', `the first handshake message is of type ${handshake[0]}, not ClientHello`);
  }
  const length = handshake.readUIntBE(1, 3);
  if (length > maxHelloBytes) {
    throw new ClientHelloError('too-large', `a ClientHello of ${length} bytes (at most ${maxHelloBytes} accepted)`);
  }
  return length;
}

/** Walks a ClientHello body (RFC 8446 4.1.2) to its server_name extension (RFC 6066 3). */
function serverNameOf(body: Buffer): string | null {
  const reader = new Reader(body);
  reader.skip(2 + 32); // legacy_version, random
  reader.skip(reader.u8()); // legacy_session_id
  reader.skip(reader.u16()); // cipher_suites
  reader.skip(reader.u8()); // legacy_compression_methods
  if (reader.remaining === 0) return null; // no extensions at all (TLS 1.2 allows it)
  const extensions = new Reader(reader.take(reader.u16()));
  while (extensions.remaining > 0) {
    const type = extensions.u16();
    const data = extensions.take(extensions.u16());
    if (type === EXTENSION_SERVER_NAME) return hostNameOf(new Reader(data));
  }
  return null;
}

function hostNameOf(extension: Reader): string | null {
  const list = new Reader(extension.take(extension.u16()));
  while (list.remaining > 0) {
    const nameType = list.u8();
    const name = list.take(list.u16());
    if (nameType !== NAME_TYPE_HOST) continue;
    const text = name.toString('latin1');
    if (name.length === 0 || name.length > MAX_HOST_NAME || !/^[A-Za-z0-9.-]+$/.test(text)) {
      throw new ClientHelloError('malformed', 'the server name is not a DNS host name');
    }
    return text.toLowerCase();
  }
  return null;
}

/** Bounds-checked big-endian reads: a length pointing past the end is a malformed hello. */
class Reader {
  #offset = 0;
  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.#offset;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  skip(length: number): void {
    this.take(length);
  }

  take(length: number): Buffer {
    if (length > this.remaining) {
      throw new ClientHelloError('malformed', 'a length in the ClientHello points past its end');
    }
    const slice = this.buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }
}
