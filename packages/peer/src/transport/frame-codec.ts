import type * as grpc from '@grpc/grpc-js';
import { BinaryWriter, Frame } from '@p2p-messenger/proto';

/** A received frame, or why it could not be decoded (so the handler can answer clearly). */
export type DecodedFrame = { ok: true; frame: Frame } | { ok: false; reason: string };

function decode(bytes: Buffer): DecodedFrame {
  try {
    const frame = Frame.decode(bytes);
    if (!frame.body) return { ok: false, reason: 'frame has no known body' };
    return { ok: true, frame };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export interface FrameCodec {
  serialize(frame: Frame): Buffer;
  deserialize(bytes: Buffer): DecodedFrame;
}

/** A codec with its own reusable writer, so that encoding a large frame does not regrow it each time. */
export function createFrameCodec(): FrameCodec {
  const writer = new BinaryWriter();
  return {
    serialize(frame) {
      // finish() copies out the bytes and resets the writer for the next frame.
      const bytes = Frame.encode(frame, writer).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize: decode,
  };
}

export const SESSION_PATH = '/p2pm.v1.MessagingService/Session';

/**
 * The messaging service with a decoder that never throws: grpc-js would turn a throw into
 * INTERNAL "Error deserializing request", which tells the other side nothing useful.
 */
export function messagingServiceDefinition(codec = createFrameCodec()): grpc.ServiceDefinition {
  const serialize = codec.serialize as (value: unknown) => Buffer;
  return {
    session: {
      path: SESSION_PATH,
      requestStream: true,
      responseStream: true,
      // Both directions carry Frames; receivers get DecodedFrames.
      requestSerialize: serialize,
      requestDeserialize: codec.deserialize,
      responseSerialize: serialize,
      responseDeserialize: codec.deserialize,
    },
  };
}
