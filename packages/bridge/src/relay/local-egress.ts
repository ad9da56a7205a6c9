import { type Socket, connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { greet, identify } from '@p2p-messenger/peer';
import type { GreetRequest, GreetResponse, PeerIdentity } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { NoRouteError, type RelayEgress, RelayRefusedError, type SeamCallOptions } from '../relay-seam.js';
import type { RelayLimits } from './relay-limits.js';
import type { RelayStats } from './relay-stats.js';

/** Where a peer of the bridge's own network listens. */
export interface LocalPeerLocation {
  /** Hosts to try, best first. */
  hosts: readonly string[];
  greetingPort: number;
  securePort: number;
}

export interface LocalEgressComponents {
  /** The id the egress signs its greetings' via_bridge_id with. */
  bridgeId: string;
  /** Where a local peer is, or null when the bridge knows no such peer. */
  locate(peerId: string): LocalPeerLocation | null;
  /** Per target, per link (the bridge a relay came from) and in total. */
  limits: RelayLimits;
  stats: RelayStats;
  log: Logger;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** A peer's own record as a location: its signed addresses and ports. */
export function locationOfRecord(record: PeerIdentity | null): LocalPeerLocation | null {
  if (!record || record.addresses.length === 0) return null;
  return { hosts: record.addresses, greetingPort: record.greetingPort, securePort: record.securePort };
}

/**
 * The last step of a relay, inside the target's own network: greets the target for the
 * greeter (saying which bridge relayed it, passing on no known peers), asks its record, and
 * opens a plain TCP connection to its secure port (the bytes are TLS already, end to end).
 */
export class LocalEgress implements RelayEgress {
  readonly #components: LocalEgressComponents;
  readonly #log: Logger;

  constructor(components: LocalEgressComponents) {
    this.#components = components;
    this.#log = components.log.child({ component: 'relay-egress' });
  }

  async greet(targetId: string, request: GreetRequest, options: SeamCallOptions = {}): Promise<GreetResponse> {
    const location = this.#locate(targetId);
    const relayed: GreetRequest = {
      ...request,
      targetId,
      knownPeers: [],
      viaBridgeId: this.#components.bridgeId,
    };
    const result = await this.#firstHost(location, location.greetingPort, (address) =>
      greet(address, relayed, targetId, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal }),
    );
    return { identity: result.identity, knownPeers: [], observedAddress: '' };
  }

  identify(targetId: string, options: SeamCallOptions = {}): Promise<PeerIdentity> {
    const location = this.#locate(targetId);
    return this.#firstHost(location, location.greetingPort, (address) =>
      identify(address, targetId, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal }),
    );
  }

  async connect(targetId: string, fromBridgeId: string, options: SeamCallOptions = {}): Promise<Duplex> {
    const location = this.#locate(targetId);
    const slot = this.#components.limits.acquire(targetId, fromBridgeId);
    if (typeof slot === 'string') {
      this.#components.stats.refused(slot);
      this.#log.info({ targetId, fromBridgeId, reason: slot }, 'relay to a local peer refused');
      throw new RelayRefusedError(grpc.status.RESOURCE_EXHAUSTED, `relay limit reached (${slot}) for peer ${targetId}`);
    }
    try {
      const socket = await this.#firstHost(location, location.securePort, (address) =>
        connectTcp(address, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      );
      socket.once('close', slot);
      return socket;
    } catch (err) {
      slot();
      throw err;
    }
  }

  #locate(targetId: string): LocalPeerLocation {
    const location = this.#components.locate(targetId);
    if (!location || location.hosts.length === 0) throw new NoRouteError(targetId, `no local peer ${targetId}`);
    return location;
  }

  /** Tries each host of the peer in turn; the last failure is the answer when none works. */
  async #firstHost<T>(location: LocalPeerLocation, port: number, run: (address: string) => Promise<T>): Promise<T> {
    let lastError: unknown = null;
    for (const host of location.hosts) {
      try {
        return await run(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
      } catch (err) {
        lastError = err;
        // A peer that answered and refused (an impostor's greeting, say) is not tried again elsewhere.
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'number' && code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) {
          break;
        }
      }
    }
    throw lastError;
  }
}

function connectTcp(address: string, timeoutMs: number): Promise<Socket> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve, reject) => {
    // No Nagle, as on the relay port: chunks are passed on as they come (see RelayListener).
    const socket = tcpConnect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RelayRefusedError(grpc.status.UNAVAILABLE, `no connection to ${address} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(new RelayRefusedError(grpc.status.UNAVAILABLE, `cannot connect to ${address}: ${err.message}`));
    };
    socket.once('error', onError);
  });
}
