import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { peerServiceName } from '../src/catalog/consul/peer-registration.js';
import { agentForTest, freshPool } from './helpers/consul-agent.js';
import { isAlive, listenerPid } from './helpers/proc.js';
import { type TestDispatcher, TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

/** Peers start slowly on a loaded 2-core machine, and the TTL runs out only after 10 s. */
const TEST_TIMEOUT_MS = 240_000;

const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=([\w.%-]+)$/;

/** The fields of Consul's health answer these tests read. */
interface HealthEntry {
  Service: { ID: string; Service: string; Address: string; Port: number; Tags: string[]; Meta: Record<string, string> };
  Checks: { CheckID: string; Status: string }[];
}

/** A guest logged in and into their peer; returns the client and the peer's id. */
async function guestInPeer(d: TestDispatcher): Promise<{ web: WebClient; peer: string }> {
  const web = new WebClient(d.url);
  const login = await web.post('/guest', { _csrf: await web.csrf() });
  const location = login.headers.get('location') ?? '';
  const peer = TICKET_PATH.exec(location)?.[1];
  if (!peer) throw new Error(`the guest was sent to ${location}, not to a peer`);
  await web.follow(await web.get(location));
  return { web, peer };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('peers of a dispatcher whose catalog is in Consul', () => {
  const dispatchers = new TestDispatchers();
  let agent: string;
  let stop: () => Promise<void>;
  let pool: string;
  let service: string;
  beforeEach(async () => {
    ({ agent, stop } = await agentForTest());
    pool = freshPool();
    service = peerServiceName(pool);
  });
  afterEach(async () => {
    await dispatchers.cleanup();
    await stop();
  });

  /** The pool's instances in Consul, by peer id, as `GET /v1/health/service/:name` lists them. */
  const registered = async (): Promise<Map<string, HealthEntry>> => {
    const entries = (await (await fetch(`${agent}/v1/health/service/${service}`)).json()) as HealthEntry[];
    return new Map(entries.map((entry) => [entry.Service.ID, entry]));
  };
  const statusOf = async (peerId: string): Promise<string[] | undefined> =>
    (await registered()).get(peerId)?.Checks.map((check) => check.Status);
  const start = () => dispatchers.start(['--catalog', 'consul', '--consul', agent, '--pool-name', pool, '--pool', '2']);

  it(
    'registers guests’ peers as Consul services of the pool with passing checks; they find each other there and talk both ways',
    async () => {
      const d = await start();
      await vacantPeers(d, 2, 90_000);
      const ada = await guestInPeer(d);
      const bob = await guestInPeer(d);
      // Spare peers again beside theirs, registered in Consul as well.
      await vacantPeers(d, 2, 90_000);

      const instances = await registered();
      for (const peer of [ada.peer, bob.peer]) {
        const entry = instances.get(peer);
        const listed = await d.app.dispatcher.catalog.get(peer);
        expect(entry?.Service).toMatchObject({ Service: service, Address: '127.0.0.1', Port: listed?.greetingPort });
        expect(entry?.Service.Tags).toEqual(expect.arrayContaining(['p2p-messenger', `p2pm-pool=${pool}`]));
        expect(entry?.Service.Meta).toMatchObject({ peer_id: peer, secure_port: String(listed?.securePort) });
        expect(entry?.Checks.map((check) => check.Status)).toEqual(['passing', 'passing']);
      }

      // Each finds the other through Consul (the dispatcher's catalog is not among the sources).
      const peersOf = async (user: { web: WebClient; peer: string }) =>
        (await (await user.web.get(`/p/${user.peer}/api/peers`)).json()) as { id: string; sources: string[] }[];
      for (const [user, other] of [
        [ada, bob],
        [bob, ada],
      ] as const) {
        await expect
          .poll(async () => (await peersOf(user)).find((p) => p.id === other.peer)?.sources, { timeout: 45_000 })
          .toEqual(['consul']);
      }

      const send = async (from: { web: WebClient; peer: string }, to: string, text: string) => {
        const sent = await fetch(`${d.url}/p/${from.peer}/api/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: from.web.cookieHeader(`/p/${from.peer}/`) },
          body: JSON.stringify({ peerId: to, text }),
        });
        expect(sent.status).toBe(200);
      };
      const history = async (user: { web: WebClient; peer: string }, other: string) =>
        ((await (await user.web.get(`/p/${user.peer}/api/history/${other}`)).json()) as { text: string }[]).map(
          (m) => m.text,
        );
      await send(ada, bob.peer, 'hello Bob, through Consul');
      await expect.poll(() => history(bob, ada.peer), { timeout: 45_000 }).toEqual(['hello Bob, through Consul']);
      await send(bob, ada.peer, 'hello Ada');
      await expect
        .poll(() => history(ada, bob.peer), { timeout: 45_000 })
        .toEqual(['hello Bob, through Consul', 'hello Ada']);

      // Only users' peers see each other: the pool's spare peers (registered, passing) stayed out of sight all along.
      expect((await peersOf(ada)).map((p) => p.id)).toEqual([bob.peer]);
      const spares = [...(await registered()).keys()].filter((id) => id !== ada.peer && id !== bob.peer);
      expect(spares).toHaveLength(2);
      for (const spare of spares) expect(await statusOf(spare)).toEqual(['passing', 'passing']);
      const claimedKeys = (await (
        await fetch(`${agent}/v1/kv/p2p-messenger/pools/${pool}/claimed/?keys`)
      ).json()) as string[];
      expect(claimedKeys.map((key) => key.split('/').at(-1)).sort()).toEqual([ada.peer, bob.peer].sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'deregisters a peer the admin removes',
    async () => {
      const d = await start();
      await vacantPeers(d, 2, 90_000);
      const ada = await guestInPeer(d);
      expect(await statusOf(ada.peer)).toEqual(['passing', 'passing']);
      const admin = {
        authorization: `Basic ${Buffer.from(`admin:${d.adminPassword}`).toString('base64')}`,
        'x-p2pm-admin': '1',
      };
      const removed = await fetch(`${d.url}/admin/api/peers/${ada.peer}`, { method: 'DELETE', headers: admin });
      expect(removed.status).toBe(200);
      // Stopped gracefully: gone from Consul at once, not left to go critical and be reaped.
      await expect.poll(async () => (await registered()).has(ada.peer), { timeout: 30_000 }).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows a peer that died as critical in Consul, and unhealthy in the catalog, until it is back',
    async () => {
      const d = await start();
      await vacantPeers(d, 2, 90_000);
      const ada = await guestInPeer(d);
      const listed = await d.app.dispatcher.catalog.get(ada.peer);
      const peerPid = listenerPid(listed?.greetingPort as number);
      // The peer's parent is the dispatcher's spawner: held still, it cannot start the peer again,
      // so the peer stays dead until it is let go.
      const spawnerPid = parentOf(peerPid);
      process.kill(spawnerPid, 'SIGSTOP');
      try {
        process.kill(peerPid, 'SIGKILL');
        // No more heartbeats: the TTL runs out (10 s).
        await expect.poll(() => statusOf(ada.peer), { timeout: 40_000, interval: 500 }).toContain('critical');
        expect((await d.app.dispatcher.catalog.get(ada.peer))?.healthy).toBe(false);
      } finally {
        process.kill(spawnerPid, 'SIGCONT');
      }
      // The spawner reports the death; the orchestrator starts the peer again from its data dir.
      await expect.poll(() => isAlive(peerPid)).toBe(false);
      await expect.poll(() => statusOf(ada.peer), { timeout: 60_000, interval: 500 }).toEqual(['passing', 'passing']);
      await expect
        .poll(async () => (await d.app.dispatcher.catalog.get(ada.peer))?.healthy, { timeout: 60_000 })
        .toBe(true);
    },
    TEST_TIMEOUT_MS,
  );
});
