/** Delivery states, in the order a message moves through them. */
export const MessageState = {
  Queued: 0,
  Sent: 1,
  Delivered: 2,
  Read: 3,
  Failed: 4,
} as const;
export type MessageStateValue = (typeof MessageState)[keyof typeof MessageState];

export type MessageStateName = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
const STATE_NAMES: readonly MessageStateName[] = ['queued', 'sent', 'delivered', 'read', 'failed'];

export function stateName(state: number): MessageStateName {
  return STATE_NAMES[state] ?? 'failed';
}

export interface MessageRecord {
  id: string;
  senderId: string;
  /** The other side of the conversation. */
  peerId: string;
  conversationId: string;
  outgoing: boolean;
  lamport: number;
  sentAtMs: number;
  receivedAtMs: number | null;
  text: string;
  state: MessageStateName;
  stateAtMs: number;
  error: string | null;
}

export interface StoredPeer {
  id: string;
  name: string;
  signingKey: Buffer;
  sealingKey: Buffer;
  certificate: Buffer;
  addresses: string[];
  greetingPort: number;
  securePort: number;
  issuedAtMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** A direct conversation's id is the same on both sides: the two ids, sorted. */
export function directConversationId(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
