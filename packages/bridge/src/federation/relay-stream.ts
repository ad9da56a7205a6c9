import { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { RelayChunk } from '@p2p-messenger/proto';

type RelayCall = grpc.ClientDuplexStream<RelayChunk, RelayChunk> | grpc.ServerDuplexStream<RelayChunk, RelayChunk>;

/** Bytes buffered on each side of a relay stream before back-pressure holds the writer. */
const HIGH_WATER_BYTES = 64 * 1024;
/** Largest chunk per gRPC message: far below the 4 MiB a receiver accepts by default. */
const MAX_CHUNK_BYTES = 64 * 1024;

/**
 * A Relay call as a byte Duplex: what is written goes out as chunks, what arrives is read.
 * Back-pressure both ways: a full HTTP/2 window holds our writer (write() answers false), and
 * a reader that does not read pauses the call (so the window stays closed toward the sender).
 * end() half-closes (a client's request stream; a server's call as a whole); destroy() cancels.
 */
export function relayDuplex(call: RelayCall): Duplex {
  let callDone = false;
  const duplex = new Duplex({
    allowHalfOpen: true,
    readableHighWaterMark: HIGH_WATER_BYTES,
    writableHighWaterMark: HIGH_WATER_BYTES,
    read() {
      call.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      let flowing = true;
      for (let offset = 0; offset < chunk.length; offset += MAX_CHUNK_BYTES) {
        flowing = call.write({ data: chunk.subarray(offset, offset + MAX_CHUNK_BYTES) });
      }
      if (flowing) callback();
      else call.once('drain', () => callback());
    },
    final(callback) {
      call.end();
      callback();
    },
    destroy(err, callback) {
      if (!callDone) {
        callDone = true;
        if ('cancel' in call) call.cancel();
        else call.emit('error', { code: grpc.status.CANCELLED, details: err?.message ?? 'relay closed' });
      }
      callback(err);
    },
  });
  call.on('data', (chunk: RelayChunk) => {
    if (!duplex.push(chunk.data)) call.pause();
  });
  call.on('end', () => duplex.push(null));
  call.on('error', (err: Error) => {
    callDone = true;
    duplex.destroy(err);
  });
  call.on('cancelled', () => {
    callDone = true;
    duplex.destroy(new Error('the other bridge cancelled the relay'));
  });
  call.on('status', () => {
    callDone = true;
  });
  return duplex;
}

/** Pipes two byte streams into each other; either one failing or closing tears down both. */
export function joinStreams(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const teardown = (err?: Error | null) => {
    a.destroy(err ?? undefined);
    b.destroy(err ?? undefined);
  };
  a.once('error', teardown);
  b.once('error', teardown);
  // A stream closed before its end arrived (reset, cancelled) takes the other one down; one
  // that ended normally has already ended the other through pipe(), which may still flush.
  a.once('close', () => a.readableEnded || b.destroy());
  b.once('close', () => b.readableEnded || a.destroy());
}
