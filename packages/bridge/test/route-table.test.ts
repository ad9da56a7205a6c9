import type { PeerIdentity } from '@p2p-messenger/proto';
import { describe, expect, it } from 'vitest';
import {
  MAX_PATH_LENGTH,
  type RemoteChange,
  RouteAdvertError,
  RouteTable,
  type TableDelta,
} from '../src/federation/route-table.js';

/** The route table is pure: records are data to it (checking them is the link's job). */
function record(id: string, issuedAtMs = 1, name = `peer ${id}`): PeerIdentity {
  return {
    id,
    name,
    signingKey: Buffer.alloc(32),
    sealingKey: Buffer.alloc(32),
    certificate: Buffer.alloc(0),
    addresses: [],
    greetingPort: 0,
    securePort: 0,
    protocolVersion: 1,
    issuedAtMs,
    signature: Buffer.alloc(0),
  };
}

/** Bridges whose tables pass their outputs to each other in order, until all is quiet. */
class Mesh {
  readonly tables = new Map<string, RouteTable>();
  readonly links = new Set<string>();
  readonly remoteChanges = new Map<string, RemoteChange[]>();
  messages = 0;
  readonly #queue: Array<{ from: string; to: string; delta: TableDelta }> = [];

  constructor(ids: string[]) {
    for (const id of ids) {
      this.tables.set(id, new RouteTable(id));
      this.remoteChanges.set(id, []);
    }
  }

  table(id: string): RouteTable {
    return this.tables.get(id) as RouteTable;
  }

  connect(a: string, b: string): void {
    this.links.add(key(a, b));
    this.apply(a, this.table(a).linkUp(b));
    this.apply(b, this.table(b).linkUp(a));
    this.run();
  }

  cut(a: string, b: string): void {
    this.links.delete(key(a, b));
    this.apply(a, this.table(a).linkDown(b));
    this.apply(b, this.table(b).linkDown(a));
    this.run();
  }

  local(bridge: string, peer: PeerIdentity): void {
    this.apply(bridge, this.table(bridge).setLocal(peer));
    this.run();
  }

  leave(bridge: string, peerId: string): void {
    this.apply(bridge, this.table(bridge).removeLocal(peerId));
    this.run();
  }

  apply(from: string, delta: TableDelta): void {
    this.remoteChanges.get(from)?.push(...delta.remote);
    for (const [to] of delta.outbound) this.#queue.push({ from, to, delta });
  }

  run(): void {
    for (let step = 0; this.#queue.length > 0; step++) {
      if (step > 10_000) throw new Error('the mesh does not settle');
      const { from, to, delta } = this.#queue.shift() as { from: string; to: string; delta: TableDelta };
      if (!this.links.has(key(from, to))) continue;
      const output = delta.outbound.get(to);
      if (!output) continue;
      this.messages++;
      const table = this.table(to);
      for (const advert of output.adverts) this.apply(to, table.advert(from, advert));
      for (const peerId of output.withdrawn) this.apply(to, table.withdraw(from, peerId));
    }
  }

  /** Per bridge: remote peer id -> `nextHop/hops`. */
  view(bridge: string): Record<string, string> {
    const view: Record<string, string> = {};
    for (const route of this.table(bridge).remotePeers()) view[route.peerId] = `${route.nextHop}/${route.hops}`;
    return view;
  }
}

function key(a: string, b: string): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

describe('RouteTable', () => {
  it('a line of three: each peer is reached through the next bridge, hops counted', () => {
    const mesh = new Mesh(['a', 'b', 'c']);
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    mesh.local('a', record('pa'));
    mesh.local('c', record('pc'));
    mesh.local('b', record('pb'));
    expect(mesh.view('a')).toEqual({ pb: 'b/1', pc: 'b/2' });
    expect(mesh.view('b')).toEqual({ pa: 'a/1', pc: 'c/1' });
    expect(mesh.view('c')).toEqual({ pa: 'b/2', pb: 'b/1' });
    expect(mesh.table('a').routeTo('pc')?.record.id).toBe('pc');
    expect(mesh.table('a').linkFor('pc')).toBe('b');
    expect(mesh.table('a').routeTo('pa')).toBeNull();
    expect(mesh.table('a').localPeer('pa')?.id).toBe('pa');
  });

  it('peers learned before the links came up are sent when they do', () => {
    const mesh = new Mesh(['a', 'b', 'c']);
    mesh.local('a', record('pa'));
    mesh.local('c', record('pc'));
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    expect(mesh.view('a')).toEqual({ pc: 'b/2' });
    expect(mesh.view('c')).toEqual({ pa: 'b/2' });
  });

  it('a triangle: the direct link wins, each peer listed once, nothing loops', () => {
    const mesh = new Mesh(['a', 'b', 'c']);
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    mesh.connect('c', 'a');
    mesh.local('a', record('pa'));
    mesh.local('b', record('pb'));
    mesh.local('c', record('pc'));
    expect(mesh.view('a')).toEqual({ pb: 'b/1', pc: 'c/1' });
    expect(mesh.view('b')).toEqual({ pa: 'a/1', pc: 'c/1' });
    expect(mesh.view('c')).toEqual({ pa: 'a/1', pb: 'b/1' });
    // Each bridge offers a remote peer only to a bridge not already on its path.
    expect(mesh.table('b').advertisedTo('a', 'pa')).toBe(false);
    expect(mesh.table('b').advertisedTo('c', 'pa')).toBe(true);
    expect(mesh.table('a').advertisedTo('b', 'pa')).toBe(true);
  });

  it('equal paths: the lowest next-hop id wins', () => {
    // d is two bridges away from a both through b and through c.
    const mesh = new Mesh(['a', 'c', 'b', 'd']);
    mesh.connect('a', 'c');
    mesh.connect('a', 'b');
    mesh.connect('c', 'd');
    mesh.connect('b', 'd');
    mesh.local('d', record('pd'));
    expect(mesh.view('a')).toEqual({ pd: 'b/2' });
    mesh.cut('a', 'b');
    expect(mesh.view('a')).toEqual({ pd: 'c/2' });
  });

  it('a link cut: what came through it is withdrawn, another path takes over, and comes back when restored', () => {
    const mesh = new Mesh(['a', 'b', 'c']);
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    mesh.connect('c', 'a');
    mesh.local('a', record('pa'));
    mesh.local('c', record('pc'));
    mesh.cut('a', 'c');
    expect(mesh.view('a')).toEqual({ pc: 'b/2' });
    expect(mesh.view('c')).toEqual({ pa: 'b/2' });
    mesh.cut('a', 'b');
    expect(mesh.view('a')).toEqual({});
    expect(mesh.view('b')).toEqual({ pc: 'c/1' });
    expect(mesh.view('c')).toEqual({});
    const removed = mesh.remoteChanges.get('c')?.filter((change) => change.kind === 'removed');
    expect(removed).toEqual([{ kind: 'removed', peerId: 'pa' }]);
    mesh.connect('a', 'b');
    mesh.connect('a', 'c');
    expect(mesh.view('a')).toEqual({ pc: 'c/1' });
    expect(mesh.view('b')).toEqual({ pa: 'a/1', pc: 'c/1' });
    expect(mesh.view('c')).toEqual({ pa: 'a/1' });
  });

  it('a removal propagates along a line and around a triangle', () => {
    const mesh = new Mesh(['a', 'b', 'c', 'd']);
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    mesh.connect('c', 'a');
    mesh.connect('c', 'd');
    mesh.local('a', record('pa'));
    expect(mesh.view('d')).toEqual({ pa: 'c/2' });
    mesh.leave('a', 'pa');
    for (const bridge of ['a', 'b', 'c', 'd']) expect(mesh.view(bridge)).toEqual({});
    for (const bridge of ['b', 'c', 'd']) {
      expect(mesh.remoteChanges.get(bridge)?.at(-1)).toEqual({ kind: 'removed', peerId: 'pa' });
    }
  });

  it('a stale record loses; a newer one is passed on and reported as an update', () => {
    const mesh = new Mesh(['a', 'b', 'c']);
    mesh.connect('a', 'b');
    mesh.connect('b', 'c');
    mesh.local('a', record('pa', 200, 'new name'));
    mesh.local('a', record('pa', 100, 'old name'));
    expect(mesh.table('c').routeTo('pa')?.name).toBe('new name');
    // A link repeating an older record of the same peer changes nothing.
    const stale = mesh.table('b').advert('a', { record: record('pa', 150, 'stale'), path: ['a'] });
    expect(stale.outbound.size).toBe(0);
    expect(stale.remote).toEqual([]);
    expect(mesh.table('b').routeTo('pa')?.name).toBe('new name');
    mesh.local('a', record('pa', 300, 'newest'));
    expect(mesh.table('c').routeTo('pa')?.name).toBe('newest');
    expect(mesh.remoteChanges.get('c')?.map((change) => change.kind)).toEqual(['added', 'updated']);
  });

  it('the newest record seen on any path is the one offered, whichever path is chosen', () => {
    const table = new RouteTable('a');
    table.linkUp('b');
    table.linkUp('c');
    table.linkUp('d');
    table.advert('b', { record: record('px', 100, 'old'), path: ['b'] });
    const delta = table.advert('c', { record: record('px', 200, 'new'), path: ['c', 'e'] });
    expect(table.routeTo('px')).toMatchObject({ nextHop: 'b', hops: 1, name: 'new' });
    expect(delta.outbound.get('d')?.adverts[0]?.record.name).toBe('new');
  });

  it('an advert whose path holds our own id is a loop: dropped, and withdraws what that link offered', () => {
    const table = new RouteTable('a');
    table.linkUp('b');
    const looped = table.advert('b', { record: record('px'), path: ['b', 'a', 'c'] });
    expect(looped.outbound.size).toBe(0);
    expect(table.remotePeers()).toEqual([]);
    table.advert('b', { record: record('px'), path: ['b', 'c'] });
    expect(table.linkFor('px')).toBe('b');
    const delta = table.advert('b', { record: record('px', 2), path: ['b', 'c', 'a'] });
    expect(table.linkFor('px')).toBeNull();
    expect(delta.remote).toEqual([{ kind: 'removed', peerId: 'px' }]);
  });

  it('refuses adverts that break the protocol: a path not starting at the sender, or repeating a bridge', () => {
    const table = new RouteTable('a');
    table.linkUp('b');
    expect(() => table.advert('b', { record: record('px'), path: ['c'] })).toThrow(RouteAdvertError);
    expect(() => table.advert('b', { record: record('px'), path: [] })).toThrow(RouteAdvertError);
    expect(() => table.advert('b', { record: record('px'), path: ['b', 'c', 'b'] })).toThrow(RouteAdvertError);
    const long = ['b', ...Array.from({ length: MAX_PATH_LENGTH }, (_, i) => `x${i}`)];
    expect(() => table.advert('b', { record: record('px'), path: long })).toThrow(/across 33 bridges/);
    expect(table.remotePeers()).toEqual([]);
  });

  it('ignores adverts from a link that is not up, and a local peer beats any remote path', () => {
    const table = new RouteTable('a');
    expect(table.advert('b', { record: record('px'), path: ['b'] }).remote).toEqual([]);
    table.linkUp('b');
    table.linkUp('c');
    table.advert('b', { record: record('px'), path: ['b'] });
    expect(table.remotePeers().map((route) => route.peerId)).toEqual(['px']);
    const delta = table.setLocal(record('px', 5));
    expect(table.routeTo('px')).toBeNull();
    expect(delta.remote).toEqual([{ kind: 'removed', peerId: 'px' }]);
    // Now offered as ours, also to b, with a path of one bridge: us.
    expect(delta.outbound.get('b')?.adverts[0]?.path).toEqual(['a']);
    expect(delta.outbound.get('c')?.adverts[0]?.path).toEqual(['a']);
  });

  it('a larger mesh settles with every peer listed once everywhere and few messages', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const mesh = new Mesh(ids);
    for (const [x, y] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'a'],
      ['a', 'd'],
    ] as const) {
      mesh.connect(x, y);
    }
    for (const id of ids) mesh.local(id, record(`p${id}`));
    for (const id of ids) {
      const view = mesh.view(id);
      expect(Object.keys(view).sort()).toEqual(ids.filter((other) => other !== id).map((other) => `p${other}`));
    }
    // Shortest paths; between equals (a to e through d or f) the lower next hop.
    expect(mesh.view('a').pd).toBe('d/1');
    expect(mesh.view('a').pe).toBe('d/2');
    expect(mesh.view('b').pe).toBe('a/3');
    expect(mesh.messages).toBeLessThan(200);
  });
});
