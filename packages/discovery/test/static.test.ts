import { EventLog } from '@p2p-messenger/discovery/lab';
import { describe, expect, it } from 'vitest';
import { type Contact, type GreetedPeer, StaticDirectory } from '../src/index.js';
import { type ComplianceNetwork, type DirectoryUnderTest, directoryCompliance } from './helpers/compliance.js';
import { testPeerId } from './helpers/consul-network.js';

const SLOTS = 4;
const hostOf = (slot: number) => `10.9.0.${slot}`;

/**
 * Static directories that list every slot's address; a slot answers greetings once a peer
 * joined it. The greeter is the seam a peer fills with its real greeting (tested there).
 */
class StaticNetwork implements ComplianceNetwork {
  readonly #answering = new Map<string, GreetedPeer>();
  readonly #directories: StaticDirectory[] = [];

  greet = async (contact: Contact): Promise<GreetedPeer> => {
    const peer = this.#answering.get(contact.host);
    if (!peer || peer.greetingPort !== contact.port) throw new Error(`nobody at ${contact.host}:${contact.port}`);
    return peer;
  };

  async join(name: string, ports: { greetingPort: number; securePort: number }): Promise<DirectoryUnderTest> {
    const slot = this.#directories.length + 1;
    const id = testPeerId();
    const others = Array.from({ length: SLOTS }, (_, i) => i + 1).filter((s) => s !== slot);
    const directory = new StaticDirectory({
      contacts: others.map((s) => ({ host: hostOf(s), port: 7000 + s })),
      greet: this.greet,
      retry: { minDelayMs: 20, maxDelayMs: 100 },
    });
    const log = EventLog.of(directory);
    this.#directories.push(directory);
    this.#answering.set(hostOf(slot), { id, name, ...ports, protocolVersion: 1, addresses: [], knownPeerIds: [] });
    await directory.start();
    return {
      id,
      name,
      events: log.events,
      peers: async () => directory.peers(),
      waitFor: (match, timeoutMs) => log.waitFor(match, timeoutMs),
      stop: async () => {
        this.#answering.delete(hostOf(slot));
        await directory.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#directories.map((d) => d.stop()));
  }
}

directoryCompliance('StaticDirectory', () => ({
  create: async () => new StaticNetwork(),
  losesStoppedPeers: false,
  findWithinMs: 2_000,
  leaveWithinMs: 300,
}));

describe('StaticDirectory', () => {
  it('reports the old peer removed and the new one found when an address changes hands', async () => {
    let answer: GreetedPeer = {
      id: testPeerId(),
      name: 'old',
      greetingPort: 7001,
      securePort: 8001,
      protocolVersion: 1,
      addresses: [],
      knownPeerIds: [],
    };
    const directory = new StaticDirectory({
      contacts: [{ host: '10.9.0.1', port: 7001 }],
      greet: async () => answer,
      refreshMs: 50,
    });
    const log = EventLog.of(directory);
    await directory.start();
    try {
      const first = await log.waitFor((e) => e.event === 'found');
      const oldId = first.peer.id;
      answer = { ...answer, id: testPeerId(), name: 'new' };
      await log.waitFor((e) => e.event === 'lost' && e.peer.id === oldId && e.reason === 'removed');
      await log.waitFor((e) => e.event === 'found' && e.peer.name === 'new');
      expect(directory.peers().map((p) => p.name)).toEqual(['new']);
      expect(directory.peers()[0]?.addresses[0]).toBe('10.9.0.1');
    } finally {
      await directory.stop();
    }
  });
});
