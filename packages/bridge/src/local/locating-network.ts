import type { LocalPeerLocation } from '../relay/local-egress.js';
import type { LocalNetwork } from './local-network.js';

/**
 * A local network that also knows where its peers listen (where it heard them, or where its
 * catalog has them): the egress connects there, whatever addresses a peer signed.
 */
export interface LocatingNetwork extends LocalNetwork {
  locate(peerId: string): LocalPeerLocation | null;
}
