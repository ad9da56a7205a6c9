import type * as grpc from '@grpc/grpc-js';
import { Frame } from '@p2p-messenger/proto';

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

function encode(frame: Frame): Buffer {
  const bytes = Frame.encode(frame).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const SESSION_PATH = '/p2pm.v1.MessagingService/Session';

/**
 * The messaging service with a decoder that never throws: grpc-js would turn a throw into
 * INTERNAL "Error deserializing request", which tells the other side nothing useful.
 */
export const messagingServiceDefinition: grpc.ServiceDefinition = {
  session: {
    path: SESSION_PATH,
    requestStream: true,
    responseStream: true,
    // Both directions carry Frames; receivers get DecodedFrames.
    requestSerialize: encode as (value: unknown) => Buffer,
    requestDeserialize: decode,
    responseSerialize: encode as (value: unknown) => Buffer,
    responseDeserialize: decode,
  },
};

export const clientFrameCodec = { serialize: encode, deserialize: decode };
