import * as grpc from '@grpc/grpc-js';
import { type FederationClient, FederationService, RelayChunk } from '@p2p-messenger/proto';

/** Field 1 (`data`), wire type 2 (length-delimited). */
const DATA_TAG = 0x0a;
const MAX_VARINT_BYTES = 5;

/**
 * RelayChunk on the wire, without the general codec's copies: it carries nothing but bytes,
 * so a chunk is the tag, the length and the data, written with one copy and read as a view
 * of the buffer gRPC hands over (a fresh one per message). The wire format is protobuf's,
 * as the generated codec writes it; anything else that parses falls back to that codec.
 */
export function encodeRelayChunk(chunk: RelayChunk): Buffer {
  const data = chunk.data;
  if (data.length === 0) return Buffer.alloc(0);
  const header = Buffer.allocUnsafe(1 + MAX_VARINT_BYTES);
  header[0] = DATA_TAG;
  let at = 1;
  let length = data.length;
  while (length > 0x7f) {
    header[at++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  header[at++] = length;
  const out = Buffer.allocUnsafe(at + data.length);
  header.copy(out, 0, 0, at);
  out.set(data, at);
  return out;
}

export function decodeRelayChunk(buffer: Buffer): RelayChunk {
  if (buffer.length === 0) return { data: Buffer.alloc(0) };
  if (buffer[0] === DATA_TAG) {
    let length = 0;
    let shift = 0;
    let at = 1;
    while (at < buffer.length && at <= MAX_VARINT_BYTES && shift < 35) {
      const byte = buffer[at++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) {
        if (at + length === buffer.length) return { data: buffer.subarray(at) };
        break;
      }
    }
  }
  return RelayChunk.decode(buffer);
}

/** The Federation service with the lean RelayChunk codec on its Relay method. */
export const leanFederationService: typeof FederationService = {
  ...FederationService,
  relay: {
    ...FederationService.relay,
    requestSerialize: encodeRelayChunk,
    requestDeserialize: decodeRelayChunk,
    responseSerialize: encodeRelayChunk,
    responseDeserialize: decodeRelayChunk,
  },
};

/** A Federation client whose Relay streams use the lean codec. */
export const LeanFederationClient = grpc.makeGenericClientConstructor(
  leanFederationService,
  'p2pm.v1.Federation',
) as unknown as typeof FederationClient;
