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
}

export type DirectoryWorkerRequest =
  | { op: 'peers' }
  | { op: 'stats' }
  | { op: 'selfAddresses' }
  /** Sends raw bytes to the multicast group (garbage, forgeries), as any host on the LAN could. */
  | { op: 'sendRaw'; bytesBase64: string; family: IpFamily; group: string; port: number }
  /** Announces as another peer id (signed with this worker's own key: a forgery). */
  | { op: 'forge'; claimedId: string; family: IpFamily; group: string; port: number }
  | { op: 'stop' };

export type DirectoryWorkerMessage =
  | { type: 'ready'; id: string }
  | { type: 'event'; event: 'found' | 'updated' | 'lost'; peer: DirectoryPeer; reason?: LostReason; atMs: number }
  | { type: 'reply'; seq: number; value?: unknown; error?: string };

export type WorkerStats = MulticastStats;
