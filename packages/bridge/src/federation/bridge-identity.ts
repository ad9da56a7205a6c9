import { type LocalIdentity, loadOrCreateIdentity, signIdentityRecord } from '@p2p-messenger/peer';
import { type PeerIdentity, PROTOCOL_VERSION } from '@p2p-messenger/proto';

/** A bridge's identity: a key pair like a peer's (same id format), and its signed record. */
export interface BridgeIdentity {
  readonly identity: LocalIdentity;
  readonly id: string;
  /** The record Identify answers: name and the federation port, signed by the bridge's key. */
  record(federationPort: number): PeerIdentity;
}

/** Loads the bridge's key pair from its data dir, creating it on first start (mode 0600). */
export async function loadBridgeIdentity(dataDir: string, name: string): Promise<BridgeIdentity> {
  const identity = await loadOrCreateIdentity(dataDir);
  let signed: { port: number; record: PeerIdentity } | null = null;
  return {
    identity,
    id: identity.id,
    record(federationPort) {
      if (signed?.port !== federationPort) {
        const record = signIdentityRecord(identity, {
          name,
          addresses: [],
          greetingPort: 0,
          securePort: federationPort,
          protocolVersion: PROTOCOL_VERSION,
        });
        signed = { port: federationPort, record };
      }
      return signed.record;
    },
  };
}
