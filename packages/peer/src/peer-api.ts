import type { MessageRecord, MessageStateName } from './store/records.js';
import type { SessionPath } from './transport/session-path.js';

export type { SessionPath } from './transport/session-path.js';

/** What a peer tells about itself and the peers it knows: the types its users see. */

/**
 * online: a session is open. unreachable: a directory lists it (or its session just failed)
 * but it cannot be reached. offline: nothing lists it now; see lastSeenMs.
 */
export type PeerStatus = 'online' | 'offline' | 'unreachable';

export interface PeerSummary {
  id: string;
  name: string;
  fingerprint: string;
  status: PeerStatus;
  /** Where it is known from now: multicast, consul, static, gossip, ... */
  sources: string[];
  online: boolean;
  lastSeenMs: number;
  unread: number;
  addresses: string[];
  /** How the open session reaches it: direct, or through a bridge; null without a session. */
  path: SessionPath | null;
}

export interface StateChange {
  messageId: string;
  peerId: string;
  state: MessageStateName;
  error?: string;
}

export interface PeerEvents {
  /** A new message from another peer (each one once). */
  message: [MessageRecord];
  /** One of this peer's own messages moved to a new state. */
  state: [StateChange];
  /** A peer was learned of, or its status or sources changed. */
  peer: [PeerSummary];
}

/** Who a peer is and where it listens, as `self()` reports it. */
export interface PeerSelf {
  id: string;
  name: string;
  fingerprint: string;
  listenHost: string;
  greetingPort: number;
  securePort: number;
}

export interface SessionInfo {
  peerId: string;
  initiator: 'local' | 'remote';
  openedAtMs: number;
  path: SessionPath;
}
