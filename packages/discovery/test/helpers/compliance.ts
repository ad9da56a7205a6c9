import type { SeenEvent } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryPeer } from '../../src/index.js';

/** One directory of one peer, as the compliance suite drives it. */
export interface DirectoryUnderTest {
  readonly id: string;
  readonly name: string;
  readonly events: readonly SeenEvent[];
  peers(): Promise<DirectoryPeer[]>;
  waitFor(match: (event: SeenEvent) => boolean, timeoutMs?: number): Promise<SeenEvent>;
  /** Graceful stop: the directory leaves as it is meant to (goodbye, deregistration). */
  stop(): Promise<void>;
}

/** A network of directories of one kind. */
export interface ComplianceNetwork {
  join(name: string, ports: { greetingPort: number; securePort: number }): Promise<DirectoryUnderTest>;
  close(): Promise<void>;
}

export interface ComplianceTarget {
  create(): Promise<ComplianceNetwork>;
  /** Whether a stopped peer leaves the others' lists (a static list keeps it). */
  losesStoppedPeers: boolean;
  /** How long the others may take to see a newcomer, and to notice a graceful stop. */
  findWithinMs: number;
  leaveWithinMs: number;
}

const isFound = (id: string) => (e: SeenEvent) => e.event === 'found' && e.peer.id === id;

/** The behaviour every PeerDirectory must show; each implementation's test file runs it. */
export function directoryCompliance(label: string, target: () => ComplianceTarget): void {
  describe(`${label} (PeerDirectory compliance)`, () => {
    let network: ComplianceNetwork;
    let spec: ComplianceTarget;
    beforeEach(async () => {
      spec = target();
      network = await spec.create();
    });
    afterEach(async () => {
      await network.close();
    });

    it('peers find each other with their ports, once each, and never themselves', async () => {
      const ports = (n: number) => ({ greetingPort: 7000 + n, securePort: 8000 + n });
      const all = [await network.join('ada', ports(1)), await network.join('bob', ports(2))];
      all.push(await network.join('cyd', ports(3)));
      for (const directory of all) {
        for (const other of all.filter((d) => d !== directory)) {
          const found = await directory.waitFor(isFound(other.id), spec.findWithinMs);
          expect(found.peer.name).toBe(other.name);
        }
      }
      for (const [i, directory] of all.entries()) {
        const listed = await directory.peers();
        expect(listed.map((p) => p.id).sort()).toEqual(
          all
            .filter((d) => d !== directory)
            .map((d) => d.id)
            .sort(),
        );
        const other = all[(i + 1) % all.length] as DirectoryUnderTest;
        const entry = listed.find((p) => p.id === other.id) as DirectoryPeer;
        const n = all.indexOf(other) + 1;
        expect(entry).toMatchObject(ports(n));
        expect(entry.addresses.length).toBeGreaterThan(0);
        expect(directory.events.filter((e) => e.event === 'found' && e.peer.id === other.id)).toHaveLength(1);
      }
    });

    it('a peer that stops gracefully leaves the others’ lists', async () => {
      const ada = await network.join('ada', { greetingPort: 7001, securePort: 8001 });
      const bob = await network.join('bob', { greetingPort: 7002, securePort: 8002 });
      await ada.waitFor(isFound(bob.id), spec.findWithinMs);
      const stoppedAt = Date.now();
      await bob.stop();
      if (!spec.losesStoppedPeers) {
        await new Promise((resolve) => setTimeout(resolve, spec.leaveWithinMs));
        expect((await ada.peers()).map((p) => p.id)).toContain(bob.id);
        return;
      }
      const lost = await ada.waitFor((e) => e.event === 'lost' && e.peer.id === bob.id, spec.leaveWithinMs);
      expect(lost.atMs - stoppedAt).toBeLessThanOrEqual(spec.leaveWithinMs);
      expect(await ada.peers()).toEqual([]);
    });

    it('a stopped directory reports nothing more', async () => {
      const ada = await network.join('ada', { greetingPort: 7001, securePort: 8001 });
      await ada.stop();
      const seen = ada.events.length;
      const bob = await network.join('bob', { greetingPort: 7002, securePort: 8002 });
      await bob.waitFor(() => false, 300).catch(() => {});
      expect(ada.events.length).toBe(seen);
    });
  });
}
