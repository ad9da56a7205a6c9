import { EventLog } from '@p2p-messenger/discovery/lab';
import { describe, expect, it } from 'vitest';
import {
  DirectoryBase,
  type DirectoryPeer,
  type DirectorySource,
  type LostReason,
  MergedDirectory,
} from '../src/index.js';
import { testPeerId } from './helpers/consul-network.js';

/** A directory whose entries the test sets by hand. */
class ManualDirectory extends DirectoryBase {
  constructor(readonly source: DirectorySource) {
    super();
  }
  async start() {
    this.markStarted();
  }
  async stop() {
    this.markStopped();
  }
  list(peer: DirectoryPeer) {
    this.put({ ...peer, sources: [this.source] });
  }
  unlist(id: string, reason: LostReason) {
    this.remove(id, reason);
  }
}

const peer = (id: string, addresses: string[], lastSeenMs: number, name = 'bob'): DirectoryPeer => ({
  id,
  name,
  addresses,
  greetingPort: 7400,
  securePort: 7401,
  protocolVersion: 1,
  knownPeerIds: [],
  sources: [],
  lastSeenMs,
});

describe('MergedDirectory', () => {
  it('merges a peer by id across sources and loses it only when the last source does', async () => {
    const lan = new ManualDirectory('multicast');
    const cloud = new ManualDirectory('consul');
    const merged = new MergedDirectory([lan, cloud]);
    const log = EventLog.of(merged);
    await merged.start();
    const id = testPeerId();
    lan.list(peer(id, ['10.0.0.2'], 1));
    cloud.list(peer(id, ['172.16.0.9'], 2, 'bob (cloud)'));
    expect(merged.peers()).toEqual([
      expect.objectContaining({
        id,
        name: 'bob (cloud)',
        addresses: ['10.0.0.2', '172.16.0.9'],
        sources: ['multicast', 'consul'],
      }),
    ]);
    lan.unlist(id, 'goodbye');
    expect(merged.peers()[0]).toMatchObject({ addresses: ['172.16.0.9'], sources: ['consul'] });
    cloud.unlist(id, 'deregistered');
    expect(merged.peers()).toEqual([]);
    expect(log.events.map((e) => `${e.event}${e.reason ? `:${e.reason}` : ''}`)).toEqual([
      'found',
      'updated',
      'updated',
      'lost:deregistered',
    ]);
    await merged.stop();
  });

  it('stops the directories it started when one of them cannot start', async () => {
    const fine = new ManualDirectory('static');
    const broken = new ManualDirectory('consul');
    broken.start = async () => {
      throw new Error('no');
    };
    let stopped = false;
    fine.stop = async () => {
      stopped = true;
    };
    await expect(new MergedDirectory([fine, broken]).start()).rejects.toThrow('no');
    expect(stopped).toBe(true);
  });
});
