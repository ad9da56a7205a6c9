import type { Socket } from 'node:net';
import { parseClientHello } from './client-hello.js';
import { ClientHelloError } from './sni-errors.js';

export interface SniReadInit {
  /** Longest ClientHello accepted (post-quantum key shares make them 1-2 KiB). */
  maxHelloBytes?: number;
  /** Time for the whole ClientHello to arrive. */
  timeoutMs?: number;
}

export interface SniRead {
  serverName: string;
  /** Every byte read so far, to be replayed to the far side before anything else. */
  head: Buffer;
}

const DEFAULT_MAX_HELLO_BYTES = 16_384;
const DEFAULT_TIMEOUT_MS = 5_000;
/** Room for record headers around the hello (a hello split into a few records). */
const RECORD_OVERHEAD_BYTES = 1_024;

/**
 * Reads a connection's first bytes until they hold a whole ClientHello and returns the server
 * name it asks for, with the bytes read: the socket is left paused, nothing consumed beyond
 * them. Rejects with ClientHelloError (reason: not-tls, malformed, too-large, no-sni, timeout,
 * closed); the caller closes the socket.
 */
export function readServerName(socket: Socket, init: SniReadInit = {}): Promise<SniRead> {
  const maxHelloBytes = init.maxHelloBytes ?? DEFAULT_MAX_HELLO_BYTES;
  const maxReadBytes = maxHelloBytes + RECORD_OVERHEAD_BYTES;
  const timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(
      () => fail(new ClientHelloError('timeout', `no whole ClientHello within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > maxReadBytes) {
        return fail(new ClientHelloError('too-large', `no whole ClientHello in the first ${length} bytes`));
      }
      let parsed: ReturnType<typeof parseClientHello>;
      try {
        parsed = parseClientHello(Buffer.concat(chunks, length), maxHelloBytes);
      } catch (err) {
        return fail(err as Error);
      }
      if (!parsed.complete) return;
      if (!parsed.serverName) {
        return fail(new ClientHelloError('no-sni', 'the ClientHello names no server (SNI): name the peer to reach'));
      }
      cleanup();
      resolve({ serverName: parsed.serverName, head: Buffer.concat(chunks, length) });
    };
    const onEnd = () => fail(new ClientHelloError('closed', 'the connection closed before a whole ClientHello'));
    const onError = (err: Error) => fail(new ClientHelloError('closed', `the connection failed: ${err.message}`));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
