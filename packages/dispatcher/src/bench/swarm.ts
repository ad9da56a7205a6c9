/**
 * pnpm bench:swarm — the cloud mode on this machine's Swarm: the dispatcher as a Swarm service
 * (as e2e/swarm.test.ts deploys it), each peer a Swarm service on an overlay network of the
 * benchmark's own, users as simulated browsers on this host (through the published port):
 * - cold_spawn_s: a guest logs in with no vacant peer; from the engine's `service create` of
 *   their peer to the peer answering them through the dispatcher's proxy, with their ticket;
 * - swarm_login_p99_ms: 50 users log in at once from a warm pool of 50;
 * - peer_container_rss_mb: idle peer containers' memory, as their cgroups count it;
 * - density_peers: idle (vacant) peer services, raised in steps up to 200, while 20 log-ins at once
 *   keep a p99 under 100 ms; where it stops and what ran out.
 * Everything it makes carries a pool label of its own and is removed at the end, also when
 * interrupted. For a quick run while developing: --cold-rounds, --warm-users, --warm-rounds,
 * --density-max, --density-step, --parts cold,warm,density (the run without arguments is the real one).
 */

import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type HostLoad, hostLoadDuring } from '@p2p-messenger/peer/bench-host-load';
import { median, printFigure, progress, quantile } from '@p2p-messenger/peer/bench-stats';
import Docker from 'dockerode';
import { LABELS } from '../orchestrator/swarm/service-spec.js';
import type { AdminApi } from './admin-api.js';
import { BenchSwarm } from './bench-swarm.js';
import { containerMemory } from './container-memory.js';
import { deployDispatcherService, dispatcherLogTail } from './dispatcher-service.js';
import { EngineTimeline, readyLinePrintedAt } from './engine-timeline.js';
import { coldLogin, warmRound } from './login-rounds.js';

const BENCH = 'swarm';
const MAX_STARTS = 4;
/** Generous: each peer service takes seconds to start on a loaded 2-core machine. */
const FILL_TIMEOUT_MS = 600_000;
/** How long idle peers sit before their memory and the host's load are read. */
const IDLE_MS = 5_000;
const DENSITY = { users: 20, p99LimitMs: 100 };
/** Containers whose memory is read (a sample of the idle pool: each reading takes a moment). */
const MEMORY_SAMPLE = 20;
const REMOVALS_AT_ONCE = 10;

const { values: args } = parseArgs({
  options: {
    'cold-rounds': { type: 'string', default: '5' },
    'warm-users': { type: 'string', default: '50' },
    'warm-rounds': { type: 'string', default: '3' },
    'density-max': { type: 'string', default: '200' },
    'density-step': { type: 'string', default: '25' },
    parts: { type: 'string', default: 'cold,warm,density' },
  },
});
const wholeArg = (name: keyof typeof args): number => {
  const value = Number(args[name]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} takes a whole number > 0`);
  return value;
};
const RUN = {
  coldRounds: wholeArg('cold-rounds'),
  warmUsers: wholeArg('warm-users'),
  warmRounds: wholeArg('warm-rounds'),
  densityMax: wholeArg('density-max'),
  densityStep: wholeArg('density-step'),
  parts: new Set(args.parts.split(',')),
};

interface Bench {
  place: BenchSwarm;
  url: string;
  admin: AdminApi;
  signal: AbortSignal;
}

async function peerServiceNames(place: BenchSwarm): Promise<Set<string>> {
  const label = [`${LABELS.pool}=${place.pool}`, `${LABELS.role}=peer`];
  return new Set((await place.docker.listServices({ filters: { label } })).map((s) => s.Spec?.Name ?? ''));
}

const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** The stages of one cold spawn, in ms after the engine's service create. */
interface ColdRound {
  answered: number;
  containerCreated?: number;
  containerStarted?: number;
  readyLine?: number;
  /** From the guest's POST /guest. */
  login: number;
}

/** One guest at a time with no vacant peer: each gets a new peer service. */
async function coldSpawn(bench: Bench): Promise<void> {
  progress(`cold spawn (pool 0, ${RUN.coldRounds} rounds)`);
  const { docker, pool } = bench.place;
  const timeline = await EngineTimeline.follow(docker, pool);
  const rounds: ColdRound[] = [];
  try {
    for (let round = 1; round <= RUN.coldRounds; round++) {
      const { peers } = await bench.admin.until(
        (v) => v.pool.starting === 0 && v.pool.waiting === 0,
        'nothing starting',
        { timeoutMs: 60_000, signal: bench.signal },
      );
      // A start the last round asked for may have left a vacant peer: this round must be cold.
      await Promise.all(peers.filter((p) => p.state === 'vacant').map((p) => bench.admin.removePeer(p.id)));
      const before = await peerServiceNames(bench.place);
      const login = await coldLogin(bench.url, bench.signal);
      const answeredAt = Date.now();
      const name = [...(await peerServiceNames(bench.place))].find((n) => !before.has(n)) ?? '';
      const stages = timeline.of(name);
      const created = stages.serviceCreated;
      if (!created) throw new Error(`no service create seen for the peer of round ${round}`);
      const printed = await readyLinePrintedAt(docker, name);
      rounds.push({
        answered: answeredAt - created,
        login,
        ...(stages.containerCreated ? { containerCreated: stages.containerCreated - created } : {}),
        ...(stages.containerStarted ? { containerStarted: stages.containerStarted - created } : {}),
        ...(printed ? { readyLine: printed - created } : {}),
      });
      const r = rounds.at(-1) as ColdRound;
      progress(
        `  round ${round}: service create -> answering ${seconds(r.answered)} s (container created ` +
          `+${seconds(r.containerCreated ?? Number.NaN)} s, started +${seconds(r.containerStarted ?? Number.NaN)} s, ` +
          `ready line +${seconds(r.readyLine ?? Number.NaN)} s; log-in -> answering ${seconds(login)} s)`,
      );
    }
  } finally {
    timeline.stop();
  }
  const stage = (key: keyof ColdRound) =>
    seconds(median(rounds.flatMap((r) => (r[key] === undefined ? [] : [r[key]]))));
  printFigure(BENCH, 'cold_spawn_s', stage('answered'), 's', {
    rounds: rounds.length,
    from: 'the engine’s service create event',
    to: 'the peer’s /api/self answering its owner through the dispatcher service’s proxy, after the ticket',
    container_created_s: stage('containerCreated'),
    container_started_s: stage('containerStarted'),
    ready_line_printed_s: stage('readyLine'),
    guest_login_to_answer_s: stage('login'),
    round_s: rounds.map((r) => seconds(r.answered)),
  });
}

async function fill(bench: Bench, vacant: number): Promise<number> {
  const begun = performance.now();
  await bench.admin.until((v) => v.pool.vacant >= vacant && v.pool.starting === 0, `filling to ${vacant} vacant`, {
    timeoutMs: FILL_TIMEOUT_MS,
    signal: bench.signal,
  });
  return performance.now() - begun;
}

/** The pool's running peer containers, idle for a while: what their cgroups hold. */
async function idleMemory(bench: Bench): Promise<void> {
  await delay(IDLE_MS, undefined, { signal: bench.signal });
  const { docker, pool } = bench.place;
  const containers = await docker.listContainers({
    filters: { label: [`${LABELS.pool}=${pool}`, `${LABELS.role}=peer`] },
  });
  const sample = containers.slice(0, MEMORY_SAMPLE);
  const readings = (await Promise.all(sample.map((c) => containerMemory(docker, c.Id)))).filter((m) => m !== null);
  if (readings.length === 0) throw new Error('no memory reading of any peer container');
  printFigure(BENCH, 'peer_container_rss_mb', median(readings.map((m) => m.usageMb)), 'MB', {
    containers: readings.length,
    idle_s: IDLE_MS / 1000,
    what: 'the container’s cgroup: memory usage less inactive file cache (as docker stats shows it)',
    anon_mb: Math.round(median(readings.map((m) => m.anonMb))),
    max_mb: Math.round(Math.max(...readings.map((m) => m.usageMb))),
    node_vmrss_mb: Math.round(median(readings.flatMap((m) => (m.processRssMb === null ? [] : [m.processRssMb])))),
  });
}

/** A few at a time: fifty removals at once kept a loaded engine busy past the requests' timeout. */
async function removeClaimed(bench: Bench): Promise<void> {
  const claimed = (await bench.admin.view()).peers.filter((p) => p.state === 'claimed');
  for (let at = 0; at < claimed.length; at += REMOVALS_AT_ONCE) {
    await Promise.all(claimed.slice(at, at + REMOVALS_AT_ONCE).map((p) => bench.admin.removePeer(p.id)));
  }
}

/** 50 users log in at once from a warm pool; rounds apart, each after the pool refilled. */
async function warmLogins(bench: Bench): Promise<void> {
  const users = RUN.warmUsers;
  progress(`warm log-in (pool ${users}, ${RUN.warmRounds} rounds)`);
  await removeClaimed(bench);
  await bench.admin.setTarget(users);
  progress(`  ${users} vacant peers after ${seconds(await fill(bench, users))} s`);
  await idleMemory(bench);
  const p50s: number[] = [];
  const p99s: number[] = [];
  const busyBefore: number[] = [];
  let failures = 0;
  for (let round = 1; round <= RUN.warmRounds; round++) {
    if (round > 1) {
      await removeClaimed(bench);
      progress(`  refilled after ${seconds(await fill(bench, users))} s`);
    }
    // Every round meets a pool as warm as the first's (which waited while memory was read):
    // the last peers started have printed their ready line but not finished starting.
    const settled = await hostLoadDuring(() => delay(IDLE_MS, undefined, { signal: bench.signal }), []);
    busyBefore.push(settled.cpuBusyPct);
    const result = await warmRound(bench.url, users);
    p50s.push(quantile(result.latencies, 0.5));
    p99s.push(quantile(result.latencies, 0.99));
    failures += result.failures.length;
    progress(
      `  round ${round} (host ${settled.cpuBusyPct}% busy before it): p50 ${p50s.at(-1)?.toFixed(1)} ms, ` +
        `p99 ${p99s.at(-1)?.toFixed(1)} ms` +
        (result.failures.length ? `, ${result.failures.length} failed (${result.failures[0]})` : ''),
    );
  }
  printFigure(BENCH, 'swarm_login_p99_ms', median(p99s), 'ms', {
    users,
    rounds: p99s.length,
    failures,
    p50_ms: Math.round(median(p50s) * 10) / 10,
    round_p99_ms: p99s.map((ms) => Math.round(ms * 10) / 10),
    host_busy_before_pct: busyBefore,
    dispatcher: 'a Swarm service, reached on its published port',
  });
}

interface DensityStep {
  peers: number;
  p99Ms: number;
  failures: number;
  idle: HostLoad;
}

/** Why the last step is the last one: the figure's reason, from what the host had left. */
function stopReason(step: DensityStep | null, error: string | null): string {
  if (error) return `peer services stopped starting: ${error}`;
  if (!step) return 'no step was measured';
  const { idle } = step;
  const host =
    `while idle: host CPU ${idle.cpuBusyPct}% busy (${idle.cpuSystemPct}% kernel, the peers ${idle.containersCpuPct}%, ` +
    `dockerd ${idle.dockerdCpuPct}%, the rest other processes), load ${idle.loadAverage1m}, ${idle.memAvailableGb} GB memory available`;
  if (step.p99Ms < DENSITY.p99LimitMs && step.failures === 0) return `reached the cap of ${RUN.densityMax}; ${host}`;
  const ours = idle.containersCpuPct + idle.dockerdCpuPct;
  const what =
    idle.memAvailableGb < 1
      ? 'memory'
      : idle.cpuBusyPct < 85
        ? 'CPU during the burst of log-ins'
        : ours >= idle.cpuBusyPct / 2
          ? 'CPU, taken by the idle peers and the engine'
          : 'CPU, taken by other processes on this shared machine';
  return `log-in p99 ${Math.round(step.p99Ms)} ms at ${step.peers} peers${step.failures ? `, ${step.failures} failed` : ''}: ${what}; ${host}`;
}

/**
 * More idle (vacant) peer services, step by step, until log-ins slow down or the cap. The
 * peers each check claims are removed after it: users' peers greet one another (every pair
 * opens a stream), which is not the idle load measured here.
 */
async function density(bench: Bench): Promise<void> {
  progress(`density (steps of ${RUN.densityStep} peer services up to ${RUN.densityMax})`);
  await removeClaimed(bench);
  let last: DensityStep | null = null;
  let passed = 0;
  let error: string | null = null;
  const steps: DensityStep[] = [];
  for (let peers = RUN.densityStep; peers <= RUN.densityMax; peers += RUN.densityStep) {
    if (peers < DENSITY.users) continue;
    try {
      await bench.admin.setTarget(peers);
      await fill(bench, peers);
    } catch (err) {
      if (bench.signal.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      error = `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
      progress(`the dispatcher service's last lines:\n${await dispatcherLogTail(bench.place)}`);
      break;
    }
    const peerContainers = await bench.place.docker.listContainers({
      filters: { label: [`${LABELS.pool}=${bench.place.pool}`, `${LABELS.role}=peer`] },
    });
    const idle = await hostLoadDuring(
      () => delay(IDLE_MS, undefined, { signal: bench.signal }),
      peerContainers.map((c) => c.Id),
    );
    const running = (await bench.place.counts()).peerServices;
    const result = await warmRound(bench.url, DENSITY.users);
    await removeClaimed(bench);
    last = { peers: running, p99Ms: quantile(result.latencies, 0.99), failures: result.failures.length, idle };
    steps.push(last);
    progress(
      `  ${running} peer services: log-in p99 ${last.p99Ms.toFixed(1)} ms; idle host ${idle.cpuBusyPct}% CPU, ` +
        `the peers ${idle.containersCpuPct}%, dockerd ${idle.dockerdCpuPct}%, load ${idle.loadAverage1m}, ` +
        `${idle.memAvailableGb} GB available` +
        (result.failures.length ? `; ${result.failures.length} failed (${result.failures[0]})` : ''),
    );
    if (last.p99Ms >= DENSITY.p99LimitMs || last.failures > 0) break;
    passed = running;
  }
  printFigure(BENCH, 'density_peers', passed, 'peers', {
    cap: RUN.densityMax,
    step: RUN.densityStep,
    users_per_check: DENSITY.users,
    p99_limit_ms: DENSITY.p99LimitMs,
    stopped: stopReason(last, error),
    steps: steps.map((s) => ({
      peers: s.peers,
      p99_ms: Math.round(s.p99Ms),
      idle_cpu_busy_pct: s.idle.cpuBusyPct,
      idle_peers_cpu_pct: s.idle.containersCpuPct,
      idle_dockerd_cpu_pct: s.idle.dockerdCpuPct,
      mem_available_gb: s.idle.memAvailableGb,
    })),
  });
}

async function main(): Promise<void> {
  const interrupted = new AbortController();
  // Every signal only aborts: the benchmark then removes what it made (a second Ctrl-C too).
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(name, () => {
      progress(`${name}: removing what the benchmark made`);
      interrupted.abort(new Error(`interrupted (${name})`));
    });
  }
  const docker = new Docker();
  const place = await BenchSwarm.create(docker);
  progress(`network ${place.network}, pool ${place.pool}`);
  try {
    const service = await deployDispatcherService(place, { pool: 0, maxStarts: MAX_STARTS, maxWaiting: 200 });
    const bench = { place, url: service.url, admin: service.admin, signal: interrupted.signal };
    if (RUN.parts.has('cold')) await coldSpawn(bench);
    if (RUN.parts.has('warm')) await warmLogins(bench);
    if (RUN.parts.has('density')) await density(bench);
  } catch (err) {
    progress(`the dispatcher service's last lines:\n${await dispatcherLogTail(place)}`);
    throw err;
  } finally {
    progress('removing the benchmark’s services, containers, volumes, secrets and network');
    await place.remove();
    const { leftovers } = await place.counts();
    if (leftovers > 0) progress(`  ${leftovers} containers or volumes of pool ${place.pool} are still there`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:swarm failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
