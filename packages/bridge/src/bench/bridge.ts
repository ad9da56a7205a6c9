/**
 * pnpm bench:bridge — peers in their own processes on LANs built from network namespaces
 * (needs root): a1 and a2 on LAN A with bridge A, b1 on LAN B with bridge B, the two bridges
 * (the `bridge` command, each in its own process) linked over a third LAN. The direct path is
 * a1 -> a2; the relayed one a1 -> b1 through both bridges (a1's relay port session, the
 * federation's Relay stream, bridge B's egress), with no other route between the LANs. Rounds
 * of the two paths alternate in the same run, so that both see the same machine.
 */
import { cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { NetLab } from '@p2p-messenger/discovery/lab';
import type { PeerSummary } from '@p2p-messenger/peer';
import { type HostLoad, hostLoadDuring, pidCpuSeconds } from '@p2p-messenger/peer/bench-host-load';
import { median, printFigure, progress, quantile } from '@p2p-messenger/peer/bench-stats';
import type { PeerProcess } from '@p2p-messenger/peer/harness';
import { BridgedLans } from '../harness/index.js';

const BENCH = 'bridge';
const ROUNDS = 5;
const SMALL = { count: 10_000, payloadBytes: 200, window: 4_000 };
const BULK = { count: 600, payloadBytes: 64 * 1024, window: 128 };
/**
 * Each latency round sends this many probes on each path, one every `intervalMs`: several
 * times the relayed round trip, so that probes go one at a time (low load).
 */
const LATENCY = { count: 150, intervalMs: 15 };
const IDLE_MS = 2_000;
/** Announcements less often than in tests: a loaded host must not let a peer expire mid-round. */
const MULTICAST = { intervalMs: 1_000, expiryMs: 5_000 };

interface Throughput {
  messagesPerS: number;
  mbPerS: number;
}

interface Paths {
  sender: PeerProcess;
  direct: PeerProcess;
  relayed: PeerProcess;
  /** The two bridge processes on the relayed path. */
  bridgePids: number[];
}

async function bridgesCpuSeconds(paths: Paths): Promise<number> {
  const each = await Promise.all(paths.bridgePids.map(pidCpuSeconds));
  return each.reduce((sum, seconds) => sum + seconds, 0);
}

async function online(sender: PeerProcess, target: PeerProcess, kind: 'direct' | 'bridge'): Promise<void> {
  const summary = async () => (await sender.request<PeerSummary[]>({ op: 'peers' })).find((p) => p.id === target.id);
  await sender.until(async () => (await summary()) !== undefined, `${target.id} to be listed`, 60_000);
  // A first message opens the session; the path then says which way it went.
  await sender.request({ op: 'send', peerId: target.id, text: `hello ${kind}` });
  await sender.until(
    async () => {
      const seen = await summary();
      return seen?.online === true && seen.path?.kind === kind;
    },
    `the ${kind} session to ${target.id}`,
    60_000,
  );
}

function throughput(paths: Paths, target: PeerProcess, spec: typeof SMALL): Promise<Throughput> {
  return paths.sender.request<Throughput>({ op: 'throughput', peerId: target.id, ...spec }, 300_000);
}

function busy(load: HostLoad): number {
  return load.cpuBusyPct;
}

async function messagesPerSecond(paths: Paths): Promise<void> {
  const direct: number[] = [];
  const relay: number[] = [];
  const ratios: number[] = [];
  let bridgesCpu = 0;
  const load = await hostLoadDuring(async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      direct.push((await throughput(paths, paths.direct, SMALL)).messagesPerS);
      const cpuBefore = await bridgesCpuSeconds(paths);
      relay.push((await throughput(paths, paths.relayed, SMALL)).messagesPerS);
      bridgesCpu += (await bridgesCpuSeconds(paths)) - cpuBefore;
      ratios.push((relay.at(-1) ?? 0) / (direct.at(-1) ?? 1));
      progress(
        `small messages, round ${round}/${ROUNDS}: direct ${Math.round(direct.at(-1) ?? 0)}/s, ` +
          `relay ${Math.round(relay.at(-1) ?? 0)}/s, ratio ${ratios.at(-1)?.toFixed(2)}`,
      );
    }
  }, []);
  const params = {
    payload_bytes: SMALL.payloadBytes,
    messages: SMALL.count,
    window: SMALL.window,
    rounds: ROUNDS,
    host_busy_pct: busy(load),
  };
  printFigure(BENCH, 'relay_messages_per_s', median(relay), '1/s', params);
  printFigure(BENCH, 'direct_messages_per_s', median(direct), '1/s', params);
  // What relaying costs the bridges (both together), in CPU time rather than in a rate that
  // other processes on the host also decide.
  printFigure(BENCH, 'relay_bridges_cpu_us_per_message', (bridgesCpu * 1e6) / (SMALL.count * ROUNDS), 'us', params);
  printFigure(BENCH, 'relay_ratio', median(ratios), 'ratio', {
    rounds: ROUNDS,
    round_ratios: ratios.map((r) => Math.round(r * 100) / 100),
    host_busy_pct: busy(load),
  });
}

async function bulk(paths: Paths): Promise<void> {
  const direct: number[] = [];
  const relay: number[] = [];
  const load = await hostLoadDuring(async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      direct.push((await throughput(paths, paths.direct, BULK)).mbPerS);
      relay.push((await throughput(paths, paths.relayed, BULK)).mbPerS);
      progress(
        `bulk, round ${round}/${ROUNDS}: direct ${direct.at(-1)?.toFixed(1)} MB/s, relay ${relay.at(-1)?.toFixed(1)} MB/s`,
      );
    }
  }, []);
  const params = {
    payload_bytes: BULK.payloadBytes,
    messages: BULK.count,
    window: BULK.window,
    rounds: ROUNDS,
    host_busy_pct: busy(load),
  };
  printFigure(BENCH, 'relay_mb_per_s', median(relay), 'MB/s', params);
  // For scale: the same messages on the direct path.
  printFigure(BENCH, 'direct_mb_per_s', median(direct), 'MB/s', params);
}

async function latency(paths: Paths): Promise<void> {
  const direct: number[] = [];
  const relay: number[] = [];
  const load = await hostLoadDuring(async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const probe = (target: PeerProcess) =>
        paths.sender.request<number[]>({ op: 'latency', peerId: target.id, ...LATENCY }, 300_000);
      const [directRound, relayRound] = [await probe(paths.direct), await probe(paths.relayed)];
      direct.push(...directRound);
      relay.push(...relayRound);
      progress(
        `latency, round ${round}/${ROUNDS}: p50 direct ${quantile(directRound, 0.5).toFixed(2)} ms, ` +
          `relay ${quantile(relayRound, 0.5).toFixed(2)} ms`,
      );
    }
  }, []);
  const [directP50, relayP50] = [quantile(direct, 0.5), quantile(relay, 0.5)];
  const params = {
    payload_bytes: 200,
    messages: LATENCY.count * ROUNDS,
    interval_ms: LATENCY.intervalMs,
    rounds: ROUNDS,
    measured: 'send to delivered (the receiver stored it and acked)',
    host_busy_pct: busy(load),
  };
  printFigure(BENCH, 'relay_added_latency_p50_ms', relayP50 - directP50, 'ms', params);
  printFigure(BENCH, 'relay_latency_p50_ms', relayP50, 'ms', params);
  printFigure(BENCH, 'direct_latency_p50_ms', directP50, 'ms', params);
  printFigure(BENCH, 'relay_latency_p99_ms', quantile(relay, 0.99), 'ms', params);
  printFigure(BENCH, 'direct_latency_p99_ms', quantile(direct, 0.99), 'ms', params);
}

async function main(): Promise<void> {
  if (!(await NetLab.available())) throw new Error('bench:bridge needs root and iproute2 (ip netns)');
  const idle = await hostLoadDuring(() => delay(IDLE_MS), []);
  progress(
    `host: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; ` +
      `${idle.cpuBusyPct}% busy before the run, load ${idle.loadAverage1m}`,
  );
  progress('starting the LANs, the bridges and the peers');
  // LAN 0 (a1, a2) and LAN 1 (b1), each with its bridge; the bridges linked over a WAN of their own.
  // --cpu-prof DIR: the bridges write CPU profiles there (at their graceful stop, at the end).
  const profileDir = process.argv[process.argv.indexOf('--cpu-prof') + 1];
  const nodeArgs =
    process.argv.includes('--cpu-prof') && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const lans = await BridgedLans.create({
    lans: 2,
    multicast: MULTICAST,
    bridge: () => ({ logLevel: 'warn', nodeArgs }),
  });
  try {
    const [a1, a2, b1] = (
      await Promise.all([lans.startPeer(0, 'a1'), lans.startPeer(0, 'a2'), lans.startPeer(1, 'b1')])
    ).map((started) => started.peer) as [PeerProcess, PeerProcess, PeerProcess];
    await online(a1, a2, 'direct');
    await online(a1, b1, 'bridge');
    const bridgePids = [lans.bridge(0).pid, lans.bridge(1).pid].filter((pid) => pid !== undefined);
    const paths: Paths = { sender: a1, direct: a2, relayed: b1, bridgePids };
    progress('warming up');
    await throughput(paths, a2, { ...SMALL, count: 2_000 });
    await throughput(paths, b1, { ...SMALL, count: 2_000 });
    await messagesPerSecond(paths);
    await latency(paths);
    await bulk(paths);
    printFigure(BENCH, 'host_busy_before_pct', idle.cpuBusyPct, '%', {
      cores: idle.cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load_average_1m: idle.loadAverage1m,
      mem_available_gb: idle.memAvailableGb,
      idle_ms: IDLE_MS,
    });
    if (nodeArgs.length > 0) await Promise.all([lans.bridge(0).stop(), lans.bridge(1).stop()]);
  } finally {
    await lans.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:bridge failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
