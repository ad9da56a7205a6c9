/**
 * A peer in its own process, driven over the IPC channel by tests and benchmarks:
 * `fork(peer-worker.js, [JSON options])`, then `{ seq, request }` messages (see protocol.ts).
 */
import pino from 'pino';
import { Peer } from '../peer.js';
import { measureLatency, measureThroughput } from './load.js';
import {
  type RequestEnvelope,
  readyMessage,
  type WorkerMessage,
  type WorkerPeerOptions,
  type WorkerRequest,
} from './protocol.js';

function post(message: WorkerMessage): void {
  process.send?.(message);
}

function errorOf(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

async function handle(peer: Peer, request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'contact':
      return peer.contact(request.address, { timeoutMs: 5_000 });
    case 'send':
      return peer.send(request.peerId, request.text);
    case 'sendMany': {
      const chunk = request.chunk ?? 100;
      for (let i = 0; i < request.count; i += chunk) {
        const sends: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(request.count, i + chunk); j++)
          sends.push(peer.send(request.peerId, `${request.prefix}${j}`));
        await Promise.all(sends);
        post({ type: 'accepted', count: Math.min(request.count, i + chunk) });
        if (request.pauseMs) await new Promise((resolve) => setTimeout(resolve, request.pauseMs));
      }
      return request.count;
    }
    case 'history':
      return peer.history(request.peerId, request.limit);
    case 'markRead':
      return peer.markRead(request.peerId);
    case 'peers':
      return peer.peers();
    case 'outboxSize':
      return peer.outboxSize();
    case 'sessions':
      return peer.sessions();
    case 'throughput':
      return measureThroughput(peer, request.peerId, request.count, request.payloadBytes, request.window);
    case 'latency':
      return measureLatency(peer, request.peerId, request.count, request.intervalMs);
    case 'rss':
      return process.memoryUsage().rss;
    case 'multicastStats':
      return peer.multicastStats();
    case 'stop':
      await peer.stop();
      setImmediate(() => process.exit(0));
      return true;
  }
}

async function main(): Promise<void> {
  const { logLevel, ...options } = JSON.parse(process.argv[2] ?? '{}') as WorkerPeerOptions;
  const peer = new Peer({ ...options, logger: pino({ level: logLevel ?? 'warn' }, pino.destination(2)) });
  let received = 0;
  peer.on('message', () => {
    received++;
  });
  peer.on('peer', (summary) => post({ type: 'peer', summary, atMs: Date.now() }));
  // Progress for tests that wait for "n messages in": at most every 20 ms.
  let lastReported = -1;
  const reporter = setInterval(() => {
    if (received !== lastReported) post({ type: 'received', total: received });
    lastReported = received;
  }, 20);
  reporter.unref();
  const startedAtMs = Date.now();
  await peer.start();
  post(readyMessage(peer, startedAtMs));
  process.on('message', (envelope: RequestEnvelope) => {
    handle(peer, envelope.request).then(
      (value) => post({ type: 'reply', seq: envelope.seq, ok: true, value }),
      (err: unknown) => post({ type: 'reply', seq: envelope.seq, ok: false, error: errorOf(err) }),
    );
  });
  process.on('disconnect', () => void peer.stop().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  post({ type: 'fatal', error: errorOf(err) });
  process.stderr.write(`peer worker failed: ${String(err)}\n`);
  process.exit(1);
});
