/**
 * pnpm bench:messaging — two peers in separate processes on loopback (TLS + sealing + durable
 * store + acks), against a bare grpc-js TLS stream between two processes. Rounds of the two
 * alternate, so that both see the same machine; the ratio is the median of per-round ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerProcess } from '../harness/peer-process.js';
import type { PeerSummary } from '../peer.js';
import { measureAppendCpu } from './disk-append.js';
import { RawGrpcPair } from './raw-grpc-pair.js';
import { median, printFigure, progress, quantile } from './stats.js';

const BENCH = 'messaging';
const ROUNDS = 5;
const SMALL = { count: 30_000, payloadBytes: 200, window: 8_000 };
const BULK = { count: 1_500, payloadBytes: 64 * 1024, window: 256 };
const LATENCY = { count: 1_000, intervalMs: 5 };

interface Throughput {
  messagesPerS: number;
  mbPerS: number;
}

async function startPeers(dir: string): Promise<{ sender: PeerProcess; receiver: PeerProcess }> {
  const receiver = await PeerProcess.start({ name: 'receiver', dataDir: join(dir, 'receiver') });
  const sender = await PeerProcess.start({ name: 'sender', dataDir: join(dir, 'sender') });
  await sender.request({ op: 'contact', address: `127.0.0.1:${receiver.greetingPort}` });
  await sender.until(
    async () => (await sender.request<PeerSummary[]>({ op: 'peers' })).some((p) => p.online),
    'the session to open',
  );
  return { sender, receiver };
}

function params(spec: { payloadBytes: number; count: number }): Record<string, number> {
  return { payload_bytes: spec.payloadBytes, messages: spec.count, rounds: ROUNDS };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-messaging-'));
  let peers: { sender: PeerProcess; receiver: PeerProcess } | undefined;
  let raw: RawGrpcPair | undefined;
  try {
    peers = await startPeers(dir);
    raw = await RawGrpcPair.start();
    const { sender, receiver } = peers;
    const run = (spec: typeof SMALL) =>
      sender.request<Throughput>({ op: 'throughput', peerId: receiver.id, ...spec }, 300_000);
    progress('warming up');
    await run({ ...SMALL, count: 5_000 });
    await raw.round({ ...SMALL, count: 5_000 });

    const small: number[] = [];
    const rawSmall: number[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      small.push((await run(SMALL)).messagesPerS);
      rawSmall.push(await raw.round(SMALL));
      ratios.push((small.at(-1) ?? 0) / (rawSmall.at(-1) ?? 1));
      progress(
        `small messages, round ${round}/${ROUNDS}: peers ${Math.round(small.at(-1) ?? 0)}/s, ` +
          `raw grpc-js ${Math.round(rawSmall.at(-1) ?? 0)}/s, ratio ${ratios.at(-1)?.toFixed(2)}`,
      );
    }
    printFigure(BENCH, 'messages_per_s', median(small), '1/s', params(SMALL));

    progress('latency at low load');
    const latencies = await sender.request<number[]>({ op: 'latency', peerId: receiver.id, ...LATENCY }, 300_000);
    const latencyParams = { payload_bytes: 200, messages: LATENCY.count, interval_ms: LATENCY.intervalMs };
    printFigure(BENCH, 'latency_p50_ms', quantile(latencies, 0.5), 'ms', latencyParams);
    printFigure(BENCH, 'latency_p99_ms', quantile(latencies, 0.99), 'ms', latencyParams);

    const bulk: number[] = [];
    const rawBulk: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      bulk.push((await run(BULK)).mbPerS);
      rawBulk.push(((await raw.round(BULK)) * BULK.payloadBytes) / 1e6);
      progress(
        `bulk, round ${round}/${ROUNDS}: peers ${bulk.at(-1)?.toFixed(1)} MB/s, raw grpc-js ${rawBulk.at(-1)?.toFixed(1)} MB/s`,
      );
    }
    printFigure(BENCH, 'bulk_mb_per_s', median(bulk), 'MB/s', params(BULK));
    printFigure(BENCH, 'baseline_messages_per_s', median(rawSmall), '1/s', params(SMALL));
    printFigure(BENCH, 'ratio_to_baseline', median(ratios), 'ratio', { rounds: ROUNDS });
    // For scale: what the bare transport moves in bulk, with no storage or sealing.
    printFigure(BENCH, 'baseline_bulk_mb_per_s', median(rawBulk), 'MB/s', params(BULK));
    // Also for scale: each side of a bulk round stores every payload, and growing a file has a
    // kernel cost of its own on this machine.
    const appendCpu = measureAppendCpu(dir, BULK.count, BULK.payloadBytes);
    printFigure(BENCH, 'append_cpu_us_per_payload', appendCpu, 'us', {
      payload_bytes: BULK.payloadBytes,
      appends: BULK.count,
    });
  } finally {
    raw?.stop();
    await Promise.all([peers?.sender.stop(), peers?.receiver.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:messaging failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
