import { randomBytes } from 'node:crypto';
import { RelayChunk } from '@p2p-messenger/proto';
import { describe, expect, it } from 'vitest';
import { decodeRelayChunk, encodeRelayChunk } from '../src/federation/relay-chunk-codec.js';

const generated = (data: Buffer) => Buffer.from(RelayChunk.encode({ data }).finish());
// Sizes around each varint length boundary, and the largest chunk a relay sends.
const SIZES = [0, 1, 127, 128, 16_383, 16_384, 65_536, 2_097_151, 2_097_152];

describe('the relay chunk codec', () => {
  it('writes exactly what the generated codec writes, and reads both ways', () => {
    for (const size of SIZES) {
      const data = randomBytes(size);
      const lean = encodeRelayChunk({ data });
      expect(lean.equals(generated(data)), `${size} bytes`).toBe(true);
      expect(Buffer.from(decodeRelayChunk(lean).data).equals(data)).toBe(true);
      expect(Buffer.from(RelayChunk.decode(lean).data).equals(data)).toBe(true);
    }
  });

  it('reads a chunk with a field it does not know, and refuses a truncated one', () => {
    const data = randomBytes(300);
    const withExtra = Buffer.concat([generated(data), Buffer.from([0x10, 0x07]) /* field 2, varint 7 */]);
    expect(Buffer.from(decodeRelayChunk(withExtra).data).equals(data)).toBe(true);
    expect(() => decodeRelayChunk(generated(data).subarray(0, 100))).toThrow();
    expect(() => decodeRelayChunk(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });
});
