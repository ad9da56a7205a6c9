import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface SpliceInit {
  /** Closes both sides after this long without a byte either way. */
  idleTimeoutMs: number;
  /** Sees every chunk as it passes (for counting, or a capture in tests). */
  tap?: (direction: 'to-target' | 'from-target', chunk: Buffer) => void;
}

/**
 * Joins a client socket to the stream toward its target, bytes unchanged both ways, with
 * back-pressure (pipe pauses a side whose other side is full, so memory stays bounded by the
 * streams' buffers). An end on one side half-closes the other; an error, an idle timeout, a
 * close, or both directions finished destroys both. Resolves once both are closed.
 */
export function splice(client: Socket, target: Duplex, init: SpliceInit): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) resolve();
    };
    const destroyBoth = () => {
      client.destroy();
      target.destroy();
    };
    client.once('close', onClose);
    target.once('close', onClose);
    client.on('error', destroyBoth);
    target.on('error', destroyBoth);
    client.once('close', destroyBoth);
    target.once('close', destroyBoth);
    // A socket's timer counts writes too, so this is silence both ways.
    client.setTimeout(init.idleTimeoutMs, destroyBoth);
    // Both directions done (each side ended, and its writes flushed): release both at once,
    // whether or not a side closes by itself once half-closed.
    let done = 0;
    const onDone = () => {
      if (++done === 4) destroyBoth();
    };
    for (const side of [client, target]) {
      side.once('end', onDone);
      side.once('finish', onDone);
    }
    if (init.tap) {
      const tap = init.tap;
      client.on('data', (chunk: Buffer) => tap('to-target', chunk));
      target.on('data', (chunk: Buffer) => tap('from-target', chunk));
    }
    client.pipe(target);
    target.pipe(client);
  });
}
