import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { ConsulCatalog, ConsulUnavailableError, type NewCatalogPeer } from '../src/index.js';
import { catalogCompliance } from './helpers/catalog-compliance.js';
import { catalogPeer } from './helpers/catalog-peer.js';
import { agentForTest, freshPool } from './helpers/consul-agent.js';
import { ConsulPeerServices } from './helpers/consul-peer-services.js';

const run = promisify(execFile);
const BUILT = fileURLToPath(new URL('../dist/catalog/consul/consul-catalog.js', import.meta.url));

/** A catalog following its peers' Consul health, whose peers register in Consul (passing) as they are registered. */
class RegisteringCatalog extends ConsulCatalog {
  readonly #services: ConsulPeerServices;
  constructor(agent: string, pool: string, services: ConsulPeerServices) {
    super({ agent, pool, peerService: `svc-${pool}` });
    this.#services = services;
  }
  override async register(peer: NewCatalogPeer): Promise<void> {
    await this.#services.add(peer.id);
    await super.register(peer);
  }
}

describe('ConsulCatalog', () => {
  catalogCompliance(async () => {
    const { agent, stop } = await agentForTest();
    const pool = freshPool();
    return { open: async () => new ConsulCatalog({ agent, pool }), dispose: stop };
  });

  describe('following its peers’ health in Consul', () => {
    catalogCompliance(async () => {
      const { agent, stop } = await agentForTest();
      const pool = freshPool();
      const services = new ConsulPeerServices(agent, `svc-${pool}`);
      return {
        open: async () => new RegisteringCatalog(agent, pool, services),
        dispose: async () => {
          await services.removeAll();
          await stop();
        },
      };
    });
  });

  describe('shared by two dispatchers', () => {
    let agent: string;
    let stop: () => Promise<void>;
    beforeEach(async () => {
      ({ agent, stop } = await agentForTest());
    });
    afterEach(() => stop());

    it('gives 10 vacant peers to 10 distinct users when two dispatcher processes race 50 log-ins', async () => {
      const pool = freshPool();
      // As dispatchers run it: following the peers' health, each peer registered (passing) in Consul.
      const services = new ConsulPeerServices(agent, `svc-${pool}`);
      const catalog = new RegisteringCatalog(agent, pool, services);
      for (let n = 1; n <= 10; n++) await catalog.register(catalogPeer(n));
      // Each process claims 25 users at once; a user may try both dispatchers (a reload
      // landing on the other replica), so users 0-9 log in on both.
      const racer = (first: number) => `
        const { ConsulCatalog } = await import(${JSON.stringify(BUILT)});
        const catalog = new ConsulCatalog({ agent: ${JSON.stringify(agent)}, pool: ${JSON.stringify(pool)}, peerService: ${JSON.stringify(`svc-${pool}`)} });
        const users = Array.from({ length: 25 }, (_, i) => 'user-' + (i < 10 ? i : ${first} + i));
        const claims = await Promise.all(users.map((u) => catalog.claim(u)));
        await catalog.close();
        console.log(JSON.stringify(claims.filter(Boolean).map((c) => [c.owner, c.id])));`;
      const results = await Promise.all(
        [100, 200].map((first) => run(process.execPath, ['--input-type=module', '-e', racer(first)])),
      );
      const won = results.flatMap((r) => JSON.parse(r.stdout) as [string, string][]);
      const byOwner = new Map<string, Set<string>>();
      for (const [owner, id] of won) byOwner.set(owner, (byOwner.get(owner) ?? new Set()).add(id));
      // Whoever got a peer got one only, from either dispatcher.
      for (const ids of byOwner.values()) expect(ids.size).toBe(1);
      const listed = await catalog.list();
      expect(listed.filter((p) => p.state === 'claimed')).toHaveLength(10);
      expect(new Set(listed.map((p) => p.owner)).size).toBe(10);
      for (const peer of listed) expect([...(byOwner.get(peer.owner as string) ?? [])]).toEqual([peer.id]);
      // Nobody shares: everyone told they got a peer owns it now, so ten people were told.
      const ownerOf = new Map(listed.map((p) => [p.id, p.owner]));
      for (const [owner, id] of won) expect(ownerOf.get(id)).toBe(owner);
      expect(byOwner.size).toBe(10);
      await catalog.close();
      await services.removeAll();
    });

    it('sees the claims another dispatcher makes, through its watch', async () => {
      const pool = freshPool();
      const one = new ConsulCatalog({ agent, pool });
      const other = new ConsulCatalog({ agent, pool });
      await one.register(catalogPeer(1));
      let changes = 0;
      other.on('changed', () => changes++);
      await expect.poll(() => changes, { timeout: 5_000 }).toBeGreaterThan(0);
      const before = changes;
      await one.claim('ada');
      await expect.poll(() => changes, { timeout: 5_000 }).toBeGreaterThan(before);
      expect(await other.assignedTo('ada')).toMatchObject({ id: catalogPeer(1).id });
      await Promise.all([one.close(), other.close()]);
    });
  });

  it('keeps a key per claimed peer, for the pool’s peers to see each other by', async () => {
    const { agent, stop } = await agentForTest();
    const pool = freshPool();
    const catalog = new ConsulCatalog({ agent, pool });
    const keys = async () => {
      const answer = await fetch(`${agent}/v1/kv/p2p-messenger/pools/${pool}/claimed/?keys`);
      return answer.status === 404 ? [] : ((await answer.json()) as string[]).map((key) => key.split('/').at(-1));
    };
    for (let n = 1; n <= 3; n++) await catalog.register(catalogPeer(n));
    expect(await keys()).toEqual([]);
    const ada = await catalog.claim('ada');
    const bob = await catalog.claim('bob');
    expect(await keys()).toEqual([ada?.id, bob?.id].sort());
    await catalog.release(ada?.id as string);
    expect(await keys()).toEqual([bob?.id]);
    // Placed again (a restart): still claimed, still shown.
    await catalog.register(catalogPeer(Number(bob?.id.slice(4))));
    expect(await keys()).toEqual([bob?.id]);
    await catalog.remove(bob?.id as string);
    expect(await keys()).toEqual([]);
    await catalog.close();
    await stop();
  });

  it('says clearly when Consul cannot be reached', async () => {
    const standIn = await ConsulStandIn.start();
    await standIn.stop();
    const catalog = new ConsulCatalog({ agent: standIn.url, pool: freshPool() });
    await expect(catalog.claim('ada')).rejects.toThrow(ConsulUnavailableError);
    await expect(catalog.list()).rejects.toThrow(/Consul at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    await catalog.close();
  });
});
