import type { Peer, PeerOptions, PeerSummary } from '../peer.js';

/** Options of a peer run by the harness worker, passed as JSON in argv[2]. */
export type WorkerPeerOptions = Omit<PeerOptions, 'logger'> & { logLevel?: string };

export type WorkerRequest =
  | { op: 'contact'; address: string }
  | { op: 'send'; peerId: string; text: string }
  /**
   * Sends `count` messages `${prefix}${i}`, `chunk` at a time with `pauseMs` between chunks,
   * reporting `accepted` progress as they are stored.
   */
  | { op: 'sendMany'; peerId: string; count: number; prefix: string; chunk?: number; pauseMs?: number }
  | { op: 'history'; peerId: string; limit: number }
  | { op: 'markRead'; peerId: string }
  | { op: 'peers' }
  | { op: 'outboxSize' }
  | { op: 'sessions' }
  | { op: 'throughput'; peerId: string; count: number; payloadBytes: number; window: number }
  | { op: 'latency'; peerId: string; count: number; intervalMs: number }
  | { op: 'rss' }
  /** Counters of the multicast directory (null without one). */
  | { op: 'multicastStats' }
  | { op: 'stop' };

export type WorkerMessage =
  | { type: 'ready'; id: string; fingerprint: string; greetingPort: number; securePort: number; startedAtMs: number }
  | { type: 'reply'; seq: number; ok: true; value: unknown }
  | { type: 'reply'; seq: number; ok: false; error: { name: string; message: string } }
  | { type: 'accepted'; count: number }
  | { type: 'received'; total: number }
  /** A 'peer' event (status or sources changed), stamped when it happened. */
  | { type: 'peer'; summary: PeerSummary; atMs: number }
  | { type: 'fatal'; error: { name: string; message: string } };

export interface RequestEnvelope {
  seq: number;
  request: WorkerRequest;
}

/**
 * The 'ready' message a child process running a peer sends its parent (harness and demo bot);
 * `startedAtMs`: when the peer began to start (it announces itself before it is ready).
 */
export function readyMessage(peer: Peer, startedAtMs: number): Extract<WorkerMessage, { type: 'ready' }> {
  const { id, fingerprint, greetingPort, securePort } = peer.self();
  return { type: 'ready', id, fingerprint, greetingPort, securePort, startedAtMs };
}
