import { type Ack, AckStatus, type ChatMessage, Content } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { PeerBook } from '../identity/peer-book.js';
import { SEALING_OVERHEAD_BYTES } from '../sealing/pair-sealer.js';
import type { MessageStore, NewIncomingMessage } from '../store/message-store.js';
import { directConversationId, type MessageRecord } from '../store/records.js';
import { isUlid } from '../util/ulid.js';
import type { LamportClock } from './lamport-clock.js';

export interface InboundContext {
  localId: string;
  maxMessageBytes: number;
  store: MessageStore;
  book: PeerBook;
  clock: LamportClock;
  log: Logger;
}

export interface InboundResult {
  acks: Ack[];
  fresh: MessageRecord[];
}

class Rejection {
  constructor(
    readonly status: AckStatus,
    readonly detail: string,
  ) {}
}

/**
 * Checks, opens and stores a batch of messages from one authenticated peer, in one
 * transaction. Every message gets an ack: stored, duplicate (stored before), or rejected
 * with the reason. Rejected messages are logged and never shown.
 */
export function receiveMessages(ctx: InboundContext, fromId: string, messages: readonly ChatMessage[]): InboundResult {
  const acks: Ack[] = [];
  const accepted: NewIncomingMessage[] = [];
  const now = Date.now();
  const sealer = ctx.book.sealerFor(fromId);
  const conversationId = directConversationId(ctx.localId, fromId);
  for (const message of messages) {
    try {
      checkEnvelope(ctx, fromId, conversationId, message);
      let plaintext: Buffer;
      try {
        plaintext = sealer.open(message.sealed, message);
      } catch (err) {
        throw new Rejection(AckStatus.ACK_STATUS_REJECTED_UNSEALABLE, (err as Error).message);
      }
      const text = textOf(plaintext);
      if (Buffer.byteLength(text) > ctx.maxMessageBytes) throw tooLarge(ctx);
      accepted.push({
        id: message.id,
        senderId: fromId,
        peerId: fromId,
        conversationId,
        lamport: message.lamport,
        sentAtMs: message.sentAtMs,
        text,
        receivedAtMs: now,
      });
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      ctx.log.warn(
        { peerId: fromId, messageId: message.id, status: AckStatus[err.status], detail: err.detail },
        'rejected incoming message',
      );
      acks.push({ messageId: message.id, status: err.status, detail: err.detail });
    }
  }
  const freshIds = accepted.length > 0 ? ctx.store.insertIncoming(accepted) : new Set<string>();
  const fresh: MessageRecord[] = [];
  for (const message of accepted) {
    ctx.clock.observe(message.lamport);
    const isFresh = freshIds.has(message.id);
    acks.push({
      messageId: message.id,
      status: isFresh ? AckStatus.ACK_STATUS_STORED : AckStatus.ACK_STATUS_DUPLICATE,
      detail: '',
    });
    if (isFresh) {
      fresh.push({ ...message, outgoing: false, state: 'delivered', stateAtMs: now, error: null });
    }
  }
  return { acks, fresh };
}

function checkEnvelope(ctx: InboundContext, fromId: string, conversationId: string, message: ChatMessage): void {
  if (!isUlid(message.id)) {
    throw new Rejection(AckStatus.ACK_STATUS_REJECTED_MALFORMED, 'message id is not a ULID');
  }
  if (message.senderId !== fromId || message.recipientId !== ctx.localId) {
    throw new Rejection(
      AckStatus.ACK_STATUS_REJECTED_MISADDRESSED,
      `message from ${message.senderId} to ${message.recipientId} arrived on the session with ${fromId}`,
    );
  }
  if (message.conversationId !== conversationId) {
    throw new Rejection(AckStatus.ACK_STATUS_REJECTED_MISADDRESSED, 'message belongs to another conversation');
  }
  // Early and cheap: no need to open what cannot fit (the exact check follows opening).
  if (message.sealed.length > ctx.maxMessageBytes + SEALING_OVERHEAD_BYTES + CONTENT_OVERHEAD_BYTES) {
    throw tooLarge(ctx);
  }
  if (!Number.isSafeInteger(message.lamport) || message.lamport < 1) {
    throw new Rejection(AckStatus.ACK_STATUS_REJECTED_MALFORMED, 'bad lamport time');
  }
}

/** Protobuf framing of Content around the text: a tag and a length of at most 5 bytes. */
const CONTENT_OVERHEAD_BYTES = 6;

function tooLarge(ctx: InboundContext): Rejection {
  return new Rejection(
    AckStatus.ACK_STATUS_REJECTED_TOO_LARGE,
    `message is larger than this peer accepts (${ctx.maxMessageBytes} bytes)`,
  );
}

function textOf(plaintext: Buffer): string {
  let content: Content;
  try {
    content = Content.decode(plaintext);
  } catch (err) {
    throw new Rejection(AckStatus.ACK_STATUS_REJECTED_MALFORMED, `content does not decode: ${(err as Error).message}`);
  }
  if (content.body?.$case !== 'text') {
    throw new Rejection(AckStatus.ACK_STATUS_REJECTED_MALFORMED, 'content kind not supported');
  }
  return content.body.value;
}
