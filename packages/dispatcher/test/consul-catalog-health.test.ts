import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulCatalog } from '../src/index.js';
import { catalogPeer } from './helpers/catalog-peer.js';
import { agentForTest, freshPool } from './helpers/consul-agent.js';
import { ConsulPeerServices } from './helpers/consul-peer-services.js';

describe('ConsulCatalog following its peers’ health in Consul', () => {
  let agent: string;
  let stop: () => Promise<void>;
  let pool: string;
  let services: ConsulPeerServices;
  const open: ConsulCatalog[] = [];
  const catalog = () => {
    const opened = new ConsulCatalog({ agent, pool, peerService: `svc-${pool}` });
    open.push(opened);
    return opened;
  };
  beforeEach(async () => {
    ({ agent, stop } = await agentForTest());
    pool = freshPool();
    services = new ConsulPeerServices(agent, `svc-${pool}`);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await services.removeAll();
    await stop();
  });

  const [one, two] = [catalogPeer(1), catalogPeer(2)];

  it('counts a peer unhealthy while its Consul registration fails its checks, and hands out no such peer', async () => {
    const shared = catalog();
    await shared.register(one);
    await shared.register(two);
    // Not in Consul (yet): no verdict from there, the probes' word stands.
    expect((await shared.list()).map((p) => p.healthy)).toEqual([true, true]);
    await services.add(one.id);
    await services.add(two.id);
    await services.fail(two.id);
    await expect.poll(async () => (await shared.get(two.id))?.healthy).toBe(false);
    expect((await shared.get(one.id))?.healthy).toBe(true);
    expect((await shared.claim('ada'))?.id).toBe(one.id);
    expect(await shared.claim('bob')).toBeNull();

    await services.pass(two.id);
    await expect.poll(async () => (await shared.get(two.id))?.healthy).toBe(true);
    expect((await shared.claim('bob'))?.id).toBe(two.id);

    // Ada's peer fails its check: still hers, shown unhealthy (she waits), then well again.
    await services.fail(one.id);
    await expect.poll(async () => (await shared.assignedTo('ada'))?.healthy).toBe(false);
    expect((await shared.claim('ada'))?.id).toBe(one.id);
    await services.pass(one.id);
    await expect.poll(async () => (await shared.assignedTo('ada'))?.healthy).toBe(true);
  });

  it('warns when a registered peer never shows up in Consul (peers that cannot reach the agent)', async () => {
    const lines: { peerId?: string; msg?: string }[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    const watched = new ConsulCatalog({ agent, pool, peerService: `svc-${pool}`, registrationGraceMs: 300, log });
    open.push(watched);
    await services.add(one.id);
    await watched.register(one);
    await watched.register(two);
    await expect.poll(() => lines.filter((l) => l.peerId === two.id)).toHaveLength(1);
    expect(lines[0]?.msg).toBe('a peer has not registered in Consul: can the peers reach the agent (--peers-consul)?');
    // The one that did register is not named.
    expect(lines.some((l) => l.peerId === one.id)).toBe(false);
  });

  it('reads Consul’s verdict without writing it: the record keeps what the dispatcher’s probes said', async () => {
    const following = catalog();
    await following.register(one);
    await services.add(one.id);
    await services.fail(one.id);
    await expect.poll(async () => (await following.get(one.id))?.healthy).toBe(false);
    const notFollowing = new ConsulCatalog({ agent, pool });
    open.push(notFollowing);
    expect((await notFollowing.get(one.id))?.healthy).toBe(true);
    // And a probe's verdict still counts: marked down by the dispatcher, down even while Consul passes.
    await services.pass(one.id);
    await following.setHealthy(one.id, false);
    await expect.poll(async () => (await following.get(one.id))?.healthy).toBe(false);
  });

  it('tells every replica when a peer it never probed fails', async () => {
    const starter = catalog();
    const other = catalog();
    await starter.register(one);
    await services.add(one.id);
    await expect.poll(async () => (await other.get(one.id))?.healthy).toBe(true);
    let changes = 0;
    other.on('changed', () => changes++);
    await services.fail(one.id);
    await expect.poll(() => changes, { timeout: 5_000 }).toBeGreaterThan(0);
    expect((await other.get(one.id))?.healthy).toBe(false);
  });
});
