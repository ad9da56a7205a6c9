import { setTimeout as delay } from 'node:timers/promises';
import { progress } from '@p2p-messenger/peer/bench-stats';
import type { PoolStats } from '../pool/warm-pool.js';

const POLL_MS = 250;
const REPORT_EVERY_MS = 2_000;
/** Removing a peer waits for its service or process to end; on a loaded machine that takes a while. */
const REMOVE_TIMEOUT_MS = 60_000;

/** What GET /admin/api/peers answers (the fields used here). */
export interface AdminView {
  pool: PoolStats;
  peers: { id: string; state: 'vacant' | 'claimed'; healthy: boolean }[];
}

/** A dispatcher's admin API, as the benchmarks use it: where it listens and the admin's log-in. */
export class AdminApi {
  readonly #where: Promise<{ url: string; authorization: string }>;

  constructor(where: Promise<{ url: string; authorization: string }>) {
    this.#where = where;
  }

  static basic(user: string, password: string): string {
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }

  async view(): Promise<AdminView> {
    const { url, authorization } = await this.#where;
    const response = await fetch(`${url}/admin/api/peers`, {
      headers: { authorization },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the admin API answered ${response.status}`);
    return (await response.json()) as AdminView;
  }

  /** Stops a peer and deletes its data (the admin's "remove"). */
  async removePeer(peerId: string): Promise<void> {
    const { url, authorization } = await this.#where;
    const response = await fetch(`${url}/admin/api/peers/${peerId}`, {
      method: 'DELETE',
      headers: { authorization, 'x-p2pm-admin': '1' },
      signal: AbortSignal.timeout(REMOVE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`removing ${peerId} answered ${response.status}`);
  }

  /** The number of vacant peers the pool keeps ready. */
  async setTarget(target: number): Promise<void> {
    const { url, authorization } = await this.#where;
    const response = await fetch(`${url}/admin/api/pool`, {
      method: 'PUT',
      headers: { authorization, 'x-p2pm-admin': '1', 'content-type': 'application/json' },
      body: JSON.stringify({ target }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`setting the pool's target answered ${response.status}`);
  }

  /** Polls until `done`, reporting the pool on stderr as it changes. */
  async until(
    done: (view: AdminView) => boolean,
    what: string,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<AdminView> {
    const deadline = performance.now() + options.timeoutMs;
    let reported = '';
    let reportedAt = 0;
    for (;;) {
      const view = await this.view();
      if (done(view)) return view;
      const { vacant, claimed, starting, waiting } = view.pool;
      const line = `  ${what}: ${vacant} vacant, ${claimed} claimed, ${starting} starting, ${waiting} waiting`;
      if (line !== reported && performance.now() - reportedAt >= REPORT_EVERY_MS) {
        progress(line);
        reported = line;
        reportedAt = performance.now();
      }
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what} (${line.trim()})`);
      await delay(POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
