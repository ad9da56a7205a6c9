/**
 * pnpm bench:messaging — two peers in separate processes on loopback (TLS + sealing + durable
 * store + acks), against a bare grpc-js TLS stream measured in the same run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerProcess } from '../harness/peer-process.js';
import type { PeerSummary } from '../peer.js';
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

/** Measures the two peers, prints their figures, and returns their small-message rate. */
async function measurePeers(dir: string): Promise<number> {
  const receiver = await PeerProcess.start({ name: 'receiver', dataDir: join(dir, 'receiver') });
  const sender = await PeerProcess.start({ name: 'sender', dataDir: join(dir, 'sender') });
  try {
    await sender.request({ op: 'contact', address: `127.0.0.1:${receiver.greetingPort}` });
    await sender.until(
      async () => (await sender.request<PeerSummary[]>({ op: 'peers' })).some((p) => p.online),
      'the session to open',
    );
    const run = (spec: typeof SMALL) =>
      sender.request<Throughput>({ op: 'throughput', peerId: receiver.id, ...spec }, 300_000);
    progress('warming up');
    await run({ ...SMALL, count: 5_000 });

    const small: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      small.push((await run(SMALL)).messagesPerS);
      progress(`small messages, round ${round}/${ROUNDS}: ${Math.round(small.at(-1) ?? 0)} messages/s`);
    }
    printFigure(BENCH, 'messages_per_s', median(small), '1/s', {
      payload_bytes: SMALL.payloadBytes,
      messages: SMALL.count,
      rounds: ROUNDS,
    });

    progress('latency at low load');
    const latencies = await sender.request<number[]>({ op: 'latency', peerId: receiver.id, ...LATENCY }, 300_000);
    const params = { payload_bytes: 200, messages: LATENCY.count, interval_ms: LATENCY.intervalMs };
    printFigure(BENCH, 'latency_p50_ms', quantile(latencies, 0.5), 'ms', params);
    printFigure(BENCH, 'latency_p99_ms', quantile(latencies, 0.99), 'ms', params);

    const bulk: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      bulk.push((await run(BULK)).mbPerS);
      progress(`bulk, round ${round}/${ROUNDS}: ${bulk.at(-1)?.toFixed(1)} MB/s`);
    }
    printFigure(BENCH, 'bulk_mb_per_s', median(bulk), 'MB/s', {
      payload_bytes: BULK.payloadBytes,
      messages: BULK.count,
      rounds: ROUNDS,
    });
    return median(small);
  } finally {
    await Promise.all([sender.stop(), receiver.stop()]);
  }
}

/** The raw grpc-js baseline: median messages/s for small messages and MB/s for bulk ones. */
async function measureBaseline(): Promise<{ messagesPerS: number; bulkMbPerS: number }> {
  const worker = fileURLToPath(new URL('./raw-grpc-worker.js', import.meta.url));
  const children: ChildProcess[] = [];
  try {
    const server = fork(worker, ['server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(server);
    const [info] = (await once(server, 'message')) as [{ port: number; certificatePem: string; id: string }];
    const client = fork(worker, ['client', String(info.port), info.certificatePem, info.id], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(client);
    await once(client, 'message');
    const round = async (spec: { count: number; payloadBytes: number }) => {
      client.send(spec);
      const [result] = (await once(client, 'message')) as [{ messagesPerS: number }];
      return result.messagesPerS;
    };
    await round({ count: 5_000, payloadBytes: SMALL.payloadBytes });
    const rates: number[] = [];
    const bulk: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      rates.push(await round(SMALL));
      bulk.push(((await round(BULK)) * BULK.payloadBytes) / 1e6);
      progress(
        `raw grpc-js baseline, round ${i}/${ROUNDS}: ${Math.round(rates.at(-1) ?? 0)} messages/s, ${bulk.at(-1)?.toFixed(1)} MB/s bulk`,
      );
    }
    return { messagesPerS: median(rates), bulkMbPerS: median(bulk) };
  } finally {
    for (const child of children) {
      child.disconnect();
      child.kill();
    }
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-messaging-'));
  try {
    const peersMessagesPerS = await measurePeers(dir);
    const baseline = await measureBaseline();
    printFigure(BENCH, 'baseline_messages_per_s', baseline.messagesPerS, '1/s', {
      payload_bytes: SMALL.payloadBytes,
      messages: SMALL.count,
      rounds: ROUNDS,
    });
    printFigure(BENCH, 'ratio_to_baseline', peersMessagesPerS / baseline.messagesPerS, 'ratio');
    // Context for bulk_mb_per_s: what the bare transport moves with no storage or sealing.
    printFigure(BENCH, 'baseline_bulk_mb_per_s', baseline.bulkMbPerS, 'MB/s', {
      payload_bytes: BULK.payloadBytes,
      messages: BULK.count,
      rounds: ROUNDS,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:messaging failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
