import * as grpc from '@grpc/grpc-js';
import {
  type Ack,
  AckStatus,
  BinaryWriter,
  type ChatMessage,
  Content,
  type Frame,
  PROTOCOL_VERSION,
  ReceiptKind,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { NewOutgoingMessage, OutboxEntry } from '../store/message-store.js';
import { type MessageRecord, MessageState, type MessageStateName } from '../store/records.js';
import type { Session } from '../transport/session.js';
import { type InboundContext, receiveMessages } from './inbound.js';

/** Where a link reports what happened, for the peer to turn into events. */
export interface LinkListener {
  incoming(records: MessageRecord[]): void;
  states(peerId: string, ids: string[], state: MessageStateName, error?: string): void;
}

/** Limits on what one link keeps in flight (sent, not yet acked). */
const MAX_IN_FLIGHT = 4096;
const MAX_BATCH_MESSAGES = 256;
// Large batches mean fewer commits per message on both sides (each commit rewrites index pages).
const MAX_BATCH_BYTES = 1024 * 1024;
const MAX_READ_RECEIPTS_PER_RESYNC = 10_000;
/** New messages kept in memory for sending, beyond which they are read back from the store. */
const MAX_FRESH_BYTES = 32 * 1024 * 1024;

/**
 * Messaging over one session with one peer: sends the outbox in order (batched, with
 * backpressure and a bounded window), stores and acks what arrives, and carries receipts.
 * When the session ends, unacked messages simply stay in the outbox for the next link.
 */
export class PeerLink {
  readonly #session: Session;
  readonly #ctx: InboundContext;
  readonly #listener: LinkListener;
  readonly #log: Logger;
  /** Sent on this link and not acked yet: message id -> its row. */
  readonly #inFlight = new Map<string, number>();
  /** The largest id handed to the session: everything after it is still to send. */
  #cursor = '';
  /**
   * Whether everything in the outbox after the cursor is in `#fresh`: then new messages go
   * out from memory; otherwise they are read back from the store.
   */
  #caughtUp = false;
  #fresh: NewOutgoingMessage[] = [];
  #freshBytes = 0;
  /** Reused for every message's content, so that it is not regrown per message. */
  readonly #contentWriter = new BinaryWriter();
  #pumping = false;
  #pumpAgain = false;

  constructor(session: Session, ctx: InboundContext, listener: LinkListener) {
    this.#session = session;
    this.#ctx = ctx;
    this.#listener = listener;
    this.#log = ctx.log.child({ remotePeerId: session.peerId });
  }

  get peerId(): string {
    return this.#session.peerId;
  }

  /** Whether a message was sent on this link and waits for its ack. */
  isInFlight(messageId: string): boolean {
    return this.#inFlight.has(messageId);
  }

  start(): void {
    this.#session.send({
      body: {
        $case: 'resync',
        value: {
          protocolVersion: PROTOCOL_VERSION,
          readCursor: this.#ctx.store.readCursor(this.peerId),
          maxPayloadBytes: this.#ctx.maxMessageBytes,
        },
      },
    });
    this.#session.attach((frame) => {
      try {
        this.#onFrame(frame);
      } catch (err) {
        this.#log.error({ err }, 'failed to handle a frame; closing the session');
        this.#session.close(grpc.status.INTERNAL, 'the receiving peer failed to handle a frame');
      }
    });
    this.pump();
  }

  /** Sends read receipts for messages the owner has just read. */
  sendReadReceipts(ids: string[]): void {
    if (ids.length === 0) return;
    this.#session.send({
      body: {
        $case: 'receipts',
        value: { receipts: [{ kind: ReceiptKind.RECEIPT_KIND_READ, messageIds: ids }] },
      },
    });
  }

  /** Messages just written to the outbox for this peer. */
  enqueue(messages: readonly NewOutgoingMessage[]): void {
    let bytes = 0;
    for (const message of messages) bytes += message.text.length;
    if (this.#caughtUp && this.#freshBytes + bytes <= MAX_FRESH_BYTES) {
      this.#fresh.push(...messages);
      this.#freshBytes += bytes;
    } else {
      // Too much at once: let them wait in the store, and read them from there.
      this.#caughtUp = false;
      this.#fresh = [];
      this.#freshBytes = 0;
    }
    this.pump();
  }

  /** Sends whatever the outbox holds, until the window or the stream's buffer is full. */
  pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pumpLoop()
      .catch((err: unknown) => {
        this.#log.error({ err }, 'outbox pump failed; closing the session');
        this.#session.close(grpc.status.INTERNAL, 'sender failed');
      })
      .finally(() => {
        this.#pumping = false;
      });
  }

  async #pumpLoop(): Promise<void> {
    do {
      this.#pumpAgain = false;
      while (this.#session.isOpen && this.#inFlight.size < MAX_IN_FLIGHT) {
        const batch = this.#nextBatch();
        if (batch.length === 0) break;
        const writable = this.#session.send({ body: { $case: 'messages', value: { messages: batch } } });
        // 'sent' is not written to disk: after a restart an unacked message is queued again.
        this.#listener.states(
          this.peerId,
          batch.map((message) => message.id),
          'sent',
        );
        if (!writable) await this.#session.drained();
      }
    } while (this.#pumpAgain && this.#session.isOpen);
  }

  /** The next messages to send, oldest first: from the store until caught up, then from memory. */
  #takeOutbox(room: number): OutboxEntry[] {
    if (!this.#caughtUp) {
      const stored = this.#ctx.store.outbox(this.peerId, this.#cursor, room, MAX_BATCH_BYTES);
      if (stored.length > 0) return stored;
      this.#caughtUp = true;
    }
    let count = 0;
    let bytes = 0;
    for (const message of this.#fresh) {
      if (count >= room || (count > 0 && bytes + message.text.length > MAX_BATCH_BYTES)) break;
      bytes += message.text.length;
      count++;
    }
    this.#freshBytes -= bytes;
    const entries: OutboxEntry[] = [];
    for (const message of this.#fresh.splice(0, count)) {
      if (message.id > this.#cursor && message.seq !== undefined) entries.push(message as OutboxEntry);
    }
    return entries;
  }

  #nextBatch(): ChatMessage[] {
    const room = Math.min(MAX_BATCH_MESSAGES, MAX_IN_FLIGHT - this.#inFlight.size);
    const records = this.#takeOutbox(room);
    const sealer = this.#ctx.book.sealerFor(this.peerId);
    const batch: ChatMessage[] = [];
    for (const record of records) {
      const message: ChatMessage = {
        id: record.id,
        conversationId: record.conversationId,
        senderId: record.senderId,
        recipientId: this.peerId,
        lamport: record.lamport,
        sentAtMs: record.sentAtMs,
        sealed: Buffer.alloc(0),
      };
      const content = Content.encode({ body: { $case: 'text', value: record.text } }, this.#contentWriter).finish();
      message.sealed = sealer.seal(content, message);
      batch.push(message);
      this.#cursor = record.id;
      this.#inFlight.set(record.id, record.seq);
    }
    return batch;
  }

  #onFrame(frame: Frame): void {
    const body = frame.body;
    switch (body?.$case) {
      case 'messages': {
        const { acks, fresh } = receiveMessages(this.#ctx, this.peerId, body.value.messages);
        this.#session.send({ body: { $case: 'acks', value: { acks } } });
        if (fresh.length > 0) this.#listener.incoming(fresh);
        break;
      }
      case 'acks':
        this.#onAcks(body.value.acks);
        break;
      case 'receipts':
        for (const receipt of body.value.receipts) this.#onReceipt(receipt.kind, receipt.messageIds);
        break;
      case 'resync': {
        const read = this.#ctx.store.readSince(this.peerId, body.value.readCursor, MAX_READ_RECEIPTS_PER_RESYNC);
        this.sendReadReceipts(read);
        break;
      }
    }
  }

  /**
   * A read receipt can overtake the ack (when a session was replaced in between); read implies
   * delivered, so listeners always see delivered before read.
   */
  #onReceipt(kind: ReceiptKind, ids: string[]): void {
    const { store, localId } = this.#ctx;
    const delivered = store.advanceOutgoing(localId, ids, MessageState.Delivered);
    if (delivered.length > 0) this.#listener.states(this.peerId, delivered, 'delivered');
    if (kind !== ReceiptKind.RECEIPT_KIND_READ) return;
    const read = store.advanceOutgoing(localId, ids, MessageState.Read);
    if (read.length > 0) this.#listener.states(this.peerId, read, 'read');
  }

  #onAcks(acks: readonly Ack[]): void {
    const delivered: { id: string; seq: number }[] = [];
    for (const ack of acks) {
      const seq = this.#inFlight.get(ack.messageId);
      // An ack for a message this link did not send is a confused peer: nothing to update.
      if (seq === undefined) continue;
      this.#inFlight.delete(ack.messageId);
      if (ack.status === AckStatus.ACK_STATUS_STORED || ack.status === AckStatus.ACK_STATUS_DUPLICATE) {
        delivered.push({ id: ack.messageId, seq });
      } else if (this.#ctx.store.markFailed(this.#ctx.localId, ack.messageId, ack.detail || AckStatus[ack.status])) {
        this.#log.warn(
          { messageId: ack.messageId, status: AckStatus[ack.status], detail: ack.detail },
          'message refused',
        );
        this.#listener.states(this.peerId, [ack.messageId], 'failed', ack.detail);
      }
    }
    const changed = this.#ctx.store.advanceOutgoingRows(delivered, MessageState.Delivered);
    if (changed.length > 0) this.#listener.states(this.peerId, changed, 'delivered');
    this.pump();
  }
}
