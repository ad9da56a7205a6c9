import type { DirectoryPeer } from '../directory.js';
import type { LocalPeerInfo } from '../host.js';

/** The service name peers register under, unless configured otherwise. */
export const DEFAULT_SERVICE_NAME = 'p2pm-peer';

/** What Consul's health endpoint returns per instance (only the fields used). */
export interface HealthEntry {
  Node?: { Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number; Tags?: string[]; Meta?: Record<string, string> };
  Checks?: { Status?: string; ServiceID?: string }[];
}

export interface Registration {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  check: { checkid: string; name: string; ttl: string; deregistercriticalserviceafter: string; status: string };
}

/** The service this peer registers: its id as the service id, ports and fingerprint in meta. */
export function registrationFor(
  self: LocalPeerInfo,
  init: {
    serviceName: string;
    address: string;
    tags: readonly string[];
    state: string;
    ttlMs: number;
    reapAfterMs: number;
  },
): Registration {
  return {
    id: self.id,
    name: init.serviceName,
    address: init.address,
    port: self.greetingPort,
    tags: [...new Set(['p2pm', ...init.tags])],
    meta: {
      peer_id: self.id,
      peer_name: self.name,
      greeting_port: String(self.greetingPort),
      secure_port: String(self.securePort),
      protocol_version: String(self.protocolVersion),
      fingerprint: self.fingerprint,
      state: init.state,
    },
    check: {
      checkid: checkIdOf(self.id),
      name: 'peer heartbeat',
      ttl: `${Math.ceil(init.ttlMs / 1000)}s`,
      deregistercriticalserviceafter: `${Math.ceil(init.reapAfterMs / 1000)}s`,
      // Registered alive: the first heartbeat follows at once anyway.
      status: 'passing',
    },
  };
}

export function checkIdOf(peerId: string): string {
  return `p2pm-peer:${peerId}`;
}

/** A directory entry from a health entry, or null when it is not a usable peer registration. */
export function peerFromHealthEntry(entry: HealthEntry, now: number): DirectoryPeer | null {
  const service = entry.Service;
  const meta = service?.Meta ?? {};
  const id = meta.peer_id ?? service?.ID;
  const address = service?.Address || entry.Node?.Address;
  const greetingPort = Number(meta.greeting_port ?? service?.Port);
  const securePort = Number(meta.secure_port);
  if (!id || !/^[a-z2-7]{16,64}$/.test(id) || !address) return null;
  if (!validPort(greetingPort) || !validPort(securePort)) return null;
  return {
    id,
    name: meta.peer_name ?? id,
    addresses: [address],
    greetingPort,
    securePort,
    protocolVersion: Number(meta.protocol_version ?? 0),
    knownPeerIds: [],
    sources: ['consul'],
    lastSeenMs: now,
  };
}

export function isPassing(entry: HealthEntry): boolean {
  return (entry.Checks ?? []).every((check) => check.Status === 'passing');
}

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < 65_536;
}
