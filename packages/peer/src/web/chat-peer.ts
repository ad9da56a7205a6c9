import type { PeerEvents, PeerSelf, PeerSummary } from '../peer-api.js';
import type { MessageRecord } from '../store/records.js';

/**
 * What the owner's web server needs of a peer, and all it may use: who it is, the peers and
 * conversations it shows, sending, reading, the owner's name, and the events it streams.
 */
export interface ChatPeer {
  readonly id: string;
  self(): PeerSelf;
  peers(): PeerSummary[];
  history(peerId: string, limit: number): MessageRecord[];
  markRead(peerId: string): number;
  send(peerId: string, text: string): Promise<MessageRecord>;
  rename(name: string): Promise<void>;
  on<E extends keyof PeerEvents>(event: E, listener: (...args: PeerEvents[E]) => void): unknown;
  off<E extends keyof PeerEvents>(event: E, listener: (...args: PeerEvents[E]) => void): unknown;
}
