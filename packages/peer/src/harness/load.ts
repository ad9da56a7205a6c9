import type { Peer } from '../peer.js';

/**
 * Sends `count` messages of `payloadBytes` as fast as the peer delivers them, keeping at most
 * `window` undelivered; returns the delivered rate, measured from first send to last ack.
 */
export async function measureThroughput(
  peer: Peer,
  peerId: string,
  count: number,
  payloadBytes: number,
  window: number,
): Promise<{ messagesPerS: number; mbPerS: number; seconds: number }> {
  const text = 'x'.repeat(payloadBytes);
  const mine = new Set<string>();
  let delivered = 0;
  let issued = 0;
  let wake: (() => void) | null = null;
  const onState = (change: { messageId: string; state: string }) => {
    if (change.state === 'delivered' && mine.delete(change.messageId)) {
      delivered++;
      wake?.();
    }
  };
  peer.on('state', onState);
  const started = process.hrtime.bigint();
  try {
    while (delivered < count) {
      const batch: Promise<{ id: string }>[] = [];
      while (issued < count && issued - delivered < window) {
        batch.push(peer.send(peerId, text));
        issued++;
      }
      for (const record of await Promise.all(batch)) mine.add(record.id);
      if (delivered < count) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    peer.off('state', onState);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messagesPerS: count / seconds, mbPerS: (count * payloadBytes) / 1e6 / seconds, seconds };
}

/** Sends one small message every `intervalMs` and returns each send -> delivered time in ms. */
export async function measureLatency(peer: Peer, peerId: string, count: number, intervalMs: number): Promise<number[]> {
  const sentAt = new Map<string, bigint>();
  const early = new Map<string, bigint>();
  const latencies: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onState = (change: { messageId: string; state: string }) => {
    if (change.state !== 'delivered') return;
    const now = process.hrtime.bigint();
    const start = sentAt.get(change.messageId);
    if (start === undefined) early.set(change.messageId, now);
    else record(change.messageId, start, now);
  };
  const record = (id: string, start: bigint, end: bigint) => {
    sentAt.delete(id);
    latencies.push(Number(end - start) / 1e6);
    if (latencies.length === count) done();
  };
  peer.on('state', onState);
  try {
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      const { id } = await peer.send(peerId, `latency probe ${i} `.padEnd(200, '.'));
      const end = early.get(id);
      if (end === undefined) sentAt.set(id, start);
      else record(id, start, end);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    await finished;
  } finally {
    peer.off('state', onState);
  }
  return latencies;
}
