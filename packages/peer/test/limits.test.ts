import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AckStatus, type PeerIdentity } from '@p2p-messenger/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord } from '../src/index.js';
import { RawPeer } from './helpers/raw-peer.js';
import { TestResources } from './helpers/resources.js';

const MAX_MESSAGE_BYTES = 16 * 1024;

describe('bad input on the secure port', () => {
  const resources = new TestResources();
  let peer: PeerProcess;
  let raw: RawPeer;
  let target: PeerIdentity;

  beforeEach(async () => {
    const dir = await resources.dir();
    peer = resources.track(
      await PeerProcess.start({ name: 'bob', dataDir: join(dir, 'bob'), maxMessageBytes: MAX_MESSAGE_BYTES }),
    );
    raw = await RawPeer.create();
    resources.onCleanup(() => raw.close());
    target = await raw.greet(peer.greetingPort);
  });
  afterEach(() => resources.cleanup());

  const history = () => peer.request<MessageRecord[]>({ op: 'history', peerId: raw.identity.id, limit: 100 });

  it('rejects an oversized message with a clear ack, and the stream lives on', async () => {
    const stream = raw.open(raw.client(target, peer.securePort));
    const big = raw.message(target, 'x'.repeat(MAX_MESSAGE_BYTES + 1));
    stream.sendMessages([big]);
    const ack = await stream.ack(big.id);
    expect(ack.status).toBe(AckStatus.ACK_STATUS_REJECTED_TOO_LARGE);
    expect(ack.detail).toMatch(/larger than this peer accepts \(16384 bytes\)/);

    const small = raw.message(target, 'still here');
    stream.sendMessages([small]);
    expect((await stream.ack(small.id)).status).toBe(AckStatus.ACK_STATUS_STORED);
    expect((await history()).map((m) => m.text)).toEqual(['still here']);
    stream.end();
  });

  it('ends a stream whose frame exceeds the size limit with RESOURCE_EXHAUSTED; the connection survives', async () => {
    const client = raw.client(target, peer.securePort);
    const first = raw.open(client);
    first.sendMessages([raw.message(target, 'x', { sealed: Buffer.alloc(5 * 1024 * 1024) })]);
    const status = await first.status;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/larger than max/);

    const second = raw.open(client);
    const message = raw.message(target, 'after the big one');
    second.sendMessages([message]);
    expect((await second.ack(message.id)).status).toBe(AckStatus.ACK_STATUS_STORED);
    second.end();
  });

  it('ends the stream with INVALID_ARGUMENT on bytes that are not a frame', async () => {
    const stream = raw.open(raw.client(target, peer.securePort));
    stream.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/^malformed frame: /);
  });

  it('ends the stream with INVALID_ARGUMENT on a frame with no known body', async () => {
    const stream = raw.open(raw.client(target, peer.securePort));
    stream.send(Buffer.from([0x78, 0x01])); // field 15, varint: valid protobuf, unknown field
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe('malformed frame: frame has no known body');
  });

  it('rejects malformed, tampered and misaddressed messages, shows none of them, and goes on', async () => {
    const stream = raw.open(raw.client(target, peer.securePort));
    const badId = raw.message(target, 'bad id', { id: 'not-a-ulid' });
    const tampered = raw.message(target, 'tampered');
    tampered.sealed[tampered.sealed.length - 1] = (tampered.sealed.at(-1) ?? 0) ^ 0xff;
    const reordered = raw.message(target, 'lamport changed on the way');
    reordered.lamport += 100;
    const misaddressed = raw.message(target, 'for someone else', { recipientId: raw.identity.id });
    const spoofed = raw.message(target, 'claims another sender', { senderId: target.id });
    const good = raw.message(target, 'the good one');
    stream.sendMessages([badId, tampered, reordered, misaddressed, spoofed, good]);

    expect((await stream.ack(badId.id)).status).toBe(AckStatus.ACK_STATUS_REJECTED_MALFORMED);
    expect((await stream.ack(tampered.id)).status).toBe(AckStatus.ACK_STATUS_REJECTED_UNSEALABLE);
    expect((await stream.ack(reordered.id)).status).toBe(AckStatus.ACK_STATUS_REJECTED_UNSEALABLE);
    expect((await stream.ack(misaddressed.id)).status).toBe(AckStatus.ACK_STATUS_REJECTED_MISADDRESSED);
    expect((await stream.ack(spoofed.id)).status).toBe(AckStatus.ACK_STATUS_REJECTED_MISADDRESSED);
    expect((await stream.ack(good.id)).status).toBe(AckStatus.ACK_STATUS_STORED);
    expect((await history()).map((m) => m.text)).toEqual(['the good one']);
    stream.end();
  });

  it('acks a resent message as a duplicate and shows it once', async () => {
    const stream = raw.open(raw.client(target, peer.securePort));
    const message = raw.message(target, 'once');
    stream.sendMessages([message]);
    expect((await stream.ack(message.id)).status).toBe(AckStatus.ACK_STATUS_STORED);
    stream.sendMessages([message]);
    expect((await stream.ack(message.id)).status).toBe(AckStatus.ACK_STATUS_DUPLICATE);
    expect((await history()).map((m) => m.text)).toEqual(['once']);
  });
});
