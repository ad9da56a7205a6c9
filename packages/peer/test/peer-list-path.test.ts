import { describe, expect, it } from 'vitest';
import { peerLine } from '../src/cli/chat-format.js';
import type { PeerSummary } from '../src/index.js';

const bob: PeerSummary = {
  id: 'b7qx4k2a3mdl5zq4i7dlx5vxqj7rfwtb',
  name: 'bob',
  fingerprint: 'x',
  status: 'online',
  sources: ['multicast'],
  online: true,
  lastSeenMs: Date.now(),
  unread: 0,
  addresses: [],
  path: { kind: 'direct' },
};

describe("the CLI's peer list", () => {
  it('says when a peer is online through a bridge, and which bridge', () => {
    expect(peerLine(1, bob, 3)).toBe('   1  bob  b7qx4k2a  online  via multicast');
    const bridged = { ...bob, path: { kind: 'bridge' as const, bridgeId: 'hq3n5m2xzv6yqkq4p4yqk4nwtxr7xw7e' } };
    expect(peerLine(1, bridged, 3)).toBe('   1  bob  b7qx4k2a  online via bridge hq3n5m2x  via multicast');
    const offline = { ...bob, status: 'offline' as const, online: false, path: null, lastSeenMs: 0 };
    expect(peerLine(1, offline, 3)).toBe('   1  bob  b7qx4k2a  offline, seen never  via multicast');
  });
});
