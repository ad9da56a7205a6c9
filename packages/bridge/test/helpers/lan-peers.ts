import type { LabHost, NetLab } from '@p2p-messenger/discovery/lab';
import type { MessageRecord, PeerSummary } from '@p2p-messenger/peer';
import type { PeerProcess } from '@p2p-messenger/peer/harness';

/** Convergence on a loaded 2-core machine: generous, and only ever waited out on failure. */
export const SETTLE_MS = 20_000;

export const peersOf = (peer: PeerProcess) => peer.request<PeerSummary[]>({ op: 'peers' });

export async function summaryOf(peer: PeerProcess, id: string): Promise<PeerSummary | undefined> {
  return (await peersOf(peer)).find((p) => p.id === id);
}

export const historyOf = (peer: PeerProcess, other: Pick<PeerProcess, 'id'>, limit = 1_000) =>
  peer.request<MessageRecord[]>({ op: 'history', peerId: other.id, limit });

/** Polls `get` until `check` holds; fails with `what` and the last value seen. */
export async function until<T>(
  what: string,
  get: () => Promise<T> | T,
  check: (value: T) => boolean,
  timeoutMs = SETTLE_MS,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await get();
    if (check(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `peer` lists `other` online (a directory lists it and no dial to it failed). */
export function untilOnline(
  peer: PeerProcess,
  other: PeerProcess,
  timeoutMs = SETTLE_MS,
): Promise<PeerSummary | undefined> {
  return until(
    `${other.id} online at ${peer.id}`,
    () => summaryOf(peer, other.id),
    (s) => s?.status === 'online',
    timeoutMs,
  );
}

/** Sends one message and waits until the receiver has it; returns the sender's record of it. */
export async function sendAndReceive(from: PeerProcess, to: PeerProcess, text: string): Promise<MessageRecord> {
  const sent = await from.request<MessageRecord>({ op: 'send', peerId: to.id, text });
  await until(
    `"${text}" at ${to.id}`,
    () => historyOf(to, from),
    (history) => history.some((m) => m.id === sent.id),
  );
  return sent;
}

/** Whether one ping from `host` to `address` is answered (within a second). */
export async function pingAnswered(lab: NetLab, host: LabHost, address: string): Promise<boolean> {
  try {
    await lab.exec(host, 'ping', ['-c', '1', '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}
