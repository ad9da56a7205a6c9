import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bridge } from '@p2p-messenger/bridge';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { parseDispatcherCommand, startEmbedded } from '../../src/index.js';

export interface TestDispatcher {
  url: string;
  app: FastifyInstance;
  dataDir: string;
  adminPassword: string;
  catalogToken: string;
  /** Its own bridge, when started with --bridge-listen. */
  bridge: Bridge | null;
  /** Closes the dispatcher (and its peers); the data dir stays until `cleanup`. */
  close(): Promise<void>;
}

/** Embedded dispatchers on loopback, port 0, each in a temp data dir; `cleanup` removes all. */
export class TestDispatchers {
  readonly #started: TestDispatcher[] = [];
  readonly #dirs: string[] = [];

  async dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'dispatcher-'));
    this.#dirs.push(dir);
    return dir;
  }

  /** Starts one from command-line flags, as `dispatcher` would parse them. */
  async start(flags: readonly string[] = [], dataDir?: string): Promise<TestDispatcher> {
    const dir = dataDir ?? (await this.dataDir());
    const command = parseDispatcherCommand(['--data-dir', dir, '--port', '0', '--log-file', '-', ...flags], {}, dir);
    if (command.kind !== 'run') throw new Error('not a run');
    const log = pino({ level: process.env.DISPATCHER_TEST_LOG ?? 'silent' });
    // Locks long enough that no test outlasts one by accident on a slow machine.
    const { app, url, secrets, bridge } = await startEmbedded(command.config, log, {
      reconcileIntervalMs: 500,
      loginLimits: { account: { baseLockMs: 60_000 }, address: { baseLockMs: 60_000 }, device: { baseLockMs: 60_000 } },
    });
    let closed: Promise<void> | null = null;
    const handle: TestDispatcher = {
      url,
      app,
      dataDir: dir,
      adminPassword: secrets.adminPassword,
      catalogToken: secrets.catalogToken,
      bridge,
      close: () => {
        closed ??= app.close();
        return closed;
      },
    };
    this.#started.push(handle);
    return handle;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#started.splice(0).map((d) => d.close()));
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Resolves once the pool has `count` vacant peers. */
export async function vacantPeers(dispatcher: TestDispatcher, count: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await dispatcher.app.dispatcher.pool.stats()).vacant < count) {
    if (Date.now() > until) throw new Error(`the pool did not reach ${count} vacant peers`);
    // The next change, or a second: whichever comes first.
    await once(dispatcher.app.dispatcher.catalog, 'changed', { signal: AbortSignal.timeout(1_000) }).catch(() => {});
  }
}
