/**
 * pnpm bench:discovery — real peers on a LAN built from network namespaces (needs root),
 * found by multicast with the default settings. For LANs of N peers it measures how long a
 * newcomer takes to be seen by all the others, how long a goodbye and an expiry take to reach
 * all of them, and the multicast traffic per peer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MULTICAST_DEFAULTS } from '@p2p-messenger/discovery';
import { type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { PeerProcess } from '../harness/peer-process.js';
import type { PeerSummary } from '../peer.js';
import { median, printFigure, progress } from './stats.js';

const BENCH = 'discovery';
const SIZES = [10, 50];
const NEWCOMER_ROUNDS = 3;
const STARTS_AT_ONCE = 6;
const TRAFFIC_WINDOW_MS = 10_000;
const EXPIRY_MS = MULTICAST_DEFAULTS.intervalMs * MULTICAST_DEFAULTS.expiryIntervals;

interface Lab {
  lab: NetLab;
  lan: Lan;
  dir: string;
  peers: PeerProcess[];
}

const listed = (summary: PeerSummary) => summary.sources.includes('multicast');

async function startPeer(env: Lab, name: string): Promise<PeerProcess> {
  const host = await env.lab.addHost(env.lan);
  return PeerProcess.start({ name, dataDir: join(env.dir, name), discovery: { multicast: {} } }, 60_000, host.netns);
}

/** Waits until every watcher has reported `peerId` in a way `matches`, after `since`; returns the last time. */
async function allReport(
  watchers: readonly PeerProcess[],
  peerId: string,
  since: number,
  matches: (summary: PeerSummary) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const times = watchers.map(
      (w) => w.peerEvents.find((e) => e.summary.id === peerId && e.atMs >= since && matches(e.summary))?.atMs,
    );
    if (times.every((t) => t !== undefined)) return Math.max(...(times as number[]));
    if (Date.now() > deadline) {
      throw new Error(`${what}: ${times.filter((t) => t === undefined).length} of ${watchers.length} never did`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startLan(size: number): Promise<Lab> {
  const lab = await NetLab.create();
  const env: Lab = { lab, lan: await lab.addLan(), dir: await mkdtemp(join(tmpdir(), 'bench-discovery-')), peers: [] };
  try {
    for (let i = 0; i < size; i += STARTS_AT_ONCE) {
      const names = Array.from({ length: Math.min(STARTS_AT_ONCE, size - i) }, (_, j) => `p${i + j + 1}`);
      const started = await Promise.allSettled(names.map((name) => startPeer(env, name)));
      for (const result of started) if (result.status === 'fulfilled') env.peers.push(result.value);
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      progress(`LAN of ${size}: ${env.peers.length} peers started`);
    }
    // Settled: every peer lists every other one.
    for (const peer of env.peers) {
      for (const other of env.peers) {
        if (other === peer) continue;
        const last = () => JSON.stringify(peer.peerEvents.filter((e) => e.summary.id === other.id).at(-1)?.summary);
        await allReport([peer], other.id, 0, listed, 'settling', 120_000).catch((err: Error) => {
          throw new Error(`${err.message} (${other.id} at ${peer.id}; its last report there: ${last()})`);
        });
      }
    }
  } catch (err) {
    // Nothing of a LAN that did not come up is left behind (namespaces, processes, data).
    await closeLan(env);
    throw err;
  }
  progress(`LAN of ${size}: every peer sees the ${size - 1} others`);
  return env;
}

async function closeLan(env: Lab): Promise<void> {
  await Promise.all(env.peers.map((peer) => peer.kill()));
  await env.lab.destroy();
  await rm(env.dir, { recursive: true, force: true });
}

async function measureLan(size: number): Promise<void> {
  // The newcomer makes the size-th peer.
  const env = await startLan(size - 1);
  try {
    const seen: number[] = [];
    const goodbyes: number[] = [];
    for (let round = 1; round <= NEWCOMER_ROUNDS; round++) {
      const newcomer = await startPeer(env, `new${round}`);
      // From the moment it began to start: it announces itself before it says it is ready.
      const seenAt = await allReport(env.peers, newcomer.id, 0, listed, 'seeing the newcomer');
      seen.push((seenAt - newcomer.startedAtMs) / 1000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const stoppingAt = Date.now();
      await newcomer.stop();
      const goneAt = await allReport(env.peers, newcomer.id, stoppingAt, (s) => !listed(s), 'the goodbye');
      goodbyes.push((goneAt - stoppingAt) / 1000);
      progress(`LAN of ${size}, newcomer ${round}: seen by all in ${seen.at(-1)} s, goodbye in ${goodbyes.at(-1)} s`);
    }
    printFigure(BENCH, 'seen_by_all_s', median(seen), 's', { n: size, rounds: NEWCOMER_ROUNDS });
    printFigure(BENCH, 'goodbye_s', median(goodbyes), 's', { n: size, rounds: NEWCOMER_ROUNDS });

    const before = await Promise.all(env.peers.map((p) => p.request<{ sent: number }>({ op: 'multicastStats' })));
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, TRAFFIC_WINDOW_MS));
    const after = await Promise.all(env.peers.map((p) => p.request<{ sent: number }>({ op: 'multicastStats' })));
    const sent = after.reduce((sum, s, i) => sum + s.sent - (before[i]?.sent ?? 0), 0);
    const perPeer = sent / env.peers.length / ((Date.now() - from) / 1000);
    printFigure(BENCH, 'packets_per_s_per_peer', perPeer, '1/s', {
      n: size,
      interval_ms: MULTICAST_DEFAULTS.intervalMs,
      families: 'ipv4+ipv6',
    });

    const victim = env.peers.pop() as PeerProcess;
    const killedAt = Date.now();
    await victim.kill();
    const expiredAt = await allReport(env.peers, victim.id, killedAt, (s) => !listed(s), 'the expiry');
    progress(`LAN of ${size}: a killed peer expired everywhere in ${(expiredAt - killedAt) / 1000} s`);
    printFigure(BENCH, 'expiry_s', (expiredAt - killedAt) / 1000, 's', { n: size, expiry_ms: EXPIRY_MS });
  } finally {
    await closeLan(env);
  }
}

async function main(): Promise<void> {
  if (!(await NetLab.available())) {
    throw new Error('bench:discovery builds LANs from network namespaces: run it as root with iproute2 installed');
  }
  for (const size of SIZES) await measureLan(size);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:discovery failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
