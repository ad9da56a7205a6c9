import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type ChatMessage, Content, type Frame, type PeerIdentity, PROTOCOL_VERSION } from '@p2p-messenger/proto';
import {
  createFrameCodec,
  directConversationId,
  greet,
  type LocalIdentity,
  loadOrCreateIdentity,
  PairSealer,
  pinnedChannelCredentials,
  pinnedChannelOptions,
  SESSION_PATH,
  signIdentityRecord,
} from '../../src/index.js';
import type { DecodedFrame } from '../../src/transport/frame-codec.js';
import { UlidGenerator } from '../../src/util/ulid.js';

/**
 * A hand-driven peer for tests that need to send what a well-behaved peer never would:
 * oversized, malformed, tampered or misaddressed frames, over the real transport.
 */
export class RawPeer {
  readonly identity: LocalIdentity;
  readonly #dir: string;
  readonly #ids = new UlidGenerator();
  #lamport = 0;
  #clients: grpc.Client[] = [];

  private constructor(identity: LocalIdentity, dir: string) {
    this.identity = identity;
    this.#dir = dir;
  }

  static async create(): Promise<RawPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'raw-peer-'));
    return new RawPeer(await loadOrCreateIdentity(dir), dir);
  }

  record(): PeerIdentity {
    return signIdentityRecord(this.identity, {
      name: 'raw',
      addresses: [],
      greetingPort: 1,
      securePort: 1,
      protocolVersion: PROTOCOL_VERSION,
    });
  }

  /** Greets the target and returns its verified identity. */
  async greet(greetingPort: number, record = this.record()): Promise<PeerIdentity> {
    return (
      await greet(
        `127.0.0.1:${greetingPort}`,
        { identity: record, knownPeers: [], targetId: '', viaBridgeId: '' },
        undefined,
      )
    ).identity;
  }

  /** A client channel to the target's secure port, presenting this peer's certificate. */
  client(target: PeerIdentity, securePort: number, identity = this.identity): grpc.Client {
    const client = new grpc.Client(
      `127.0.0.1:${securePort}`,
      pinnedChannelCredentials(identity, target.id, target.certificate),
      { ...pinnedChannelOptions(target.id), 'grpc.use_local_subchannel_pool': 1 },
    );
    this.#clients.push(client);
    return client;
  }

  /** Opens a Session stream whose frames are collected; bytes may be raw (Buffer) or a Frame. */
  open(client: grpc.Client): RawStream {
    const codec = createFrameCodec();
    const call = client.makeBidiStreamRequest<Frame | Buffer, DecodedFrame>(
      SESSION_PATH,
      (value) => (Buffer.isBuffer(value) ? value : codec.serialize(value)),
      codec.deserialize,
    );
    return new RawStream(call);
  }

  /** A properly sealed message to `target`, with any field overridden. */
  message(target: PeerIdentity, text: string, override: Partial<ChatMessage> = {}): ChatMessage {
    const message: ChatMessage = {
      id: this.#ids.next(),
      conversationId: directConversationId(this.identity.id, target.id),
      senderId: this.identity.id,
      recipientId: target.id,
      lamport: ++this.#lamport,
      sentAtMs: Date.now(),
      sealed: Buffer.alloc(0),
      ...override,
    };
    const sealer = new PairSealer(this.identity.id, this.identity.sealingKey, target.id, target.sealingKey);
    if (!override.sealed) {
      message.sealed = sealer.seal(Content.encode({ body: { $case: 'text', value: text } }).finish(), message);
    }
    return message;
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

export class RawStream {
  readonly frames: Frame[] = [];
  readonly status: Promise<grpc.StatusObject>;
  readonly #call: grpc.ClientDuplexStream<Frame | Buffer, DecodedFrame>;
  #waiters: (() => void)[] = [];

  constructor(call: grpc.ClientDuplexStream<Frame | Buffer, DecodedFrame>) {
    this.#call = call;
    call.on('data', (decoded: DecodedFrame) => {
      if (decoded.ok) this.frames.push(decoded.frame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.status = new Promise((resolve) => {
      call.on('status', resolve);
      call.on('error', () => {});
    });
  }

  send(value: Frame | Buffer): void {
    this.#call.write(value);
  }

  sendMessages(messages: ChatMessage[]): void {
    this.send({ body: { $case: 'messages', value: { messages } } });
  }

  /** Waits for a frame matching `match`, failing after `timeoutMs`. */
  async next<T>(match: (frame: Frame) => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.frames) {
        const found = match(frame);
        if (found !== undefined) {
          this.frames.splice(this.frames.indexOf(frame), 1);
          return found;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('expected frame did not arrive');
      await Promise.race([
        new Promise<void>((resolve) => this.#waiters.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, left)),
      ]);
    }
  }

  /** The ack for one message id (acks come in batches: only that one is taken). */
  ack(messageId: string) {
    return this.next((frame) => {
      if (frame.body?.$case !== 'acks') return undefined;
      const acks = frame.body.value.acks;
      const index = acks.findIndex((a) => a.messageId === messageId);
      if (index < 0) return undefined;
      const [ack] = acks.splice(index, 1);
      // Leave the frame for the other acks it carries.
      if (acks.length > 0) this.frames.push(frame);
      return ack;
    });
  }

  end(): void {
    this.#call.end();
  }
}
