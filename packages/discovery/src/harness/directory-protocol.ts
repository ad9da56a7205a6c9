import type { RelayedPeer } from '@p2p-messenger/proto';
import type { DirectoryPeer, LostReason } from '../directory.js';
import type { IpFamily } from '../multicast/interfaces.js';
import type { MulticastStats } from '../multicast/multicast-directory.js';

/** How a directory worker is started (JSON in argv[2]). */
export interface DirectoryWorkerConfig {
  name: string;
  greetingPort: number;
  securePort: number;
  families?: IpFamily[];
  port?: number;
  intervalMs?: number;
  expiryMs?: number;
  interfaces?: string[];
  /** Speaks for a bridge: re-advertises the peers set with `setRelayed` (none at first). */
  relay?: boolean;
}

/** A forged announcement: another id, signed with the worker's own key. */
export interface Forgery {
  claimedId: string;
  /** The key it carries: none, the worker's own (not the id's), or the one given (base64; not the signer's). */
  carriedKey?: 'none' | 'own' | { base64: string };
  /** A hello (default), or a bridge's relayed list. */
  relayedPeers?: RelayedPeer[];
}

type Destination = { family: IpFamily; group: string; port: number };

export type DirectoryWorkerRequest =
  | { op: 'peers' }
  | { op: 'stats' }
  | { op: 'selfAddresses' }
  /** Sends raw bytes to the multicast group (garbage, forgeries), as any host on the LAN could. */
  | { op: 'sendRaw'; bytesBase64: string; family: IpFamily; group: string; port: number }
  /** Announces as another peer id (signed with this worker's own key: a forgery). */
  | ({ op: 'forge' } & Forgery & Destination)
  /** For a worker that speaks for a bridge: the peers it re-advertises from now on. */
  | { op: 'setRelayed'; peers: RelayedPeer[] }
  /** Starts keeping every datagram heard on the group (for replays). */
  | ({ op: 'record' } & Destination)
  /** The datagrams kept since `record`, base64. */
  | { op: 'recorded' }
  | { op: 'stop' };

export type DirectoryWorkerMessage =
  | { type: 'ready'; id: string }
  | { type: 'event'; event: 'found' | 'updated' | 'lost'; peer: DirectoryPeer; reason?: LostReason; atMs: number }
  | { type: 'reply'; seq: number; value?: unknown; error?: string };

export type WorkerStats = MulticastStats;
