import { randomBytes } from 'node:crypto';
import type { SeenEvent } from '@p2p-messenger/discovery/lab';
import { EventLog } from '@p2p-messenger/discovery/lab';
import pino from 'pino';
import { base32Encode, ConsulDirectory, type DirectoryPeer, type LocalPeerInfo } from '../../src/index.js';
import type { ComplianceNetwork, DirectoryUnderTest } from './compliance.js';
import { ConsulStandIn } from './consul-standin.js';

/** Fast timings, so that a test sees heartbeats, expiry and retries within a second or two. */
export const CONSUL_TIMING = { ttlMs: 1_000, watchWaitMs: 2_000, retry: { minDelayMs: 50, maxDelayMs: 300 } };

let counter = 0;

/** A random id shaped like a real one (20 bytes, base32). */
export function testPeerId(): string {
  return base32Encode(randomBytes(20));
}

export function testPeerInfo(name: string, ports: { greetingPort: number; securePort: number }): LocalPeerInfo {
  return {
    id: testPeerId(),
    name,
    ...ports,
    protocolVersion: 1,
    fingerprint: '12345 67890',
    knownPeerIds: () => [],
  };
}

/**
 * Consul directories against a real agent when CONSUL_HTTP_ADDR is set, else against the
 * stand-in (which can also be made to forget everything, go down and come back).
 */
export class ConsulNetwork implements ComplianceNetwork {
  readonly agent: string;
  readonly standIn: ConsulStandIn | null;
  readonly serviceName = `p2pm-test-${process.pid}-${++counter}`;
  readonly directories: ConsulDirectory[] = [];

  private constructor(agent: string, standIn: ConsulStandIn | null) {
    this.agent = agent;
    this.standIn = standIn;
  }

  static async create(): Promise<ConsulNetwork> {
    const real = process.env.CONSUL_HTTP_ADDR;
    if (real) return new ConsulNetwork(real, null);
    const standIn = await ConsulStandIn.start();
    return new ConsulNetwork(standIn.address, standIn);
  }

  async join(
    name: string,
    ports: { greetingPort: number; securePort: number },
  ): Promise<DirectoryUnderTest & { directory: ConsulDirectory; self: LocalPeerInfo }> {
    const self = testPeerInfo(name, ports);
    const directory = new ConsulDirectory({
      self,
      agent: this.agent,
      advertiseAddress: '127.0.0.1',
      serviceName: this.serviceName,
      ...CONSUL_TIMING,
      ...(process.env.DEBUG_CONSUL ? { log: pino({ level: 'debug' }, pino.destination(2)).child({ name }) } : {}),
    });
    const log = EventLog.of(directory);
    this.directories.push(directory);
    await directory.start();
    return {
      id: self.id,
      name,
      self,
      directory,
      events: log.events,
      peers: async (): Promise<DirectoryPeer[]> => directory.peers(),
      waitFor: (match: (e: SeenEvent) => boolean, timeoutMs?: number) => log.waitFor(match, timeoutMs),
      stop: () => directory.stop(),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.directories.map((directory) => directory.stop()));
    await this.standIn?.stop();
  }
}
