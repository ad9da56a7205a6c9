import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RelayLimits, RelayRefusal } from './relay-limits.js';
import type { RelayStats } from './relay-stats.js';
import type { RelayTargets } from './relay-targets.js';
import { ClientHelloError } from './sni-errors.js';
import { readServerName } from './sni-reader.js';
import { splice } from './splice.js';

export interface RelayListenerComponents {
  targets: RelayTargets;
  limits: RelayLimits;
  stats: RelayStats;
  log: Logger;
  /** Sees every relayed chunk (tests capture what the relay moved). */
  tap?: (direction: 'to-target' | 'from-target', chunk: Buffer) => void;
}

export interface RelayListenerInit {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** A relay with no byte either way for this long is closed. */
  idleTimeoutMs?: number;
  /** Time for the ClientHello to arrive. */
  helloTimeoutMs?: number;
  maxHelloBytes?: number;
  /** Time to reach the target (through the federation, or to a local peer). */
  connectTimeoutMs?: number;
}

/**
 * The bridge's secure port: each connection is a peer's TLS session for another peer, named
 * by its ClientHello's SNI. The relay reads only that name, checks that the peer is one it
 * advertises and that the limits allow one more relay, reaches the target, replays the bytes
 * read and then moves raw bytes both ways. It never terminates the TLS: it cannot read them.
 */
export class RelayListener {
  readonly #components: RelayListenerComponents;
  readonly #init: RelayListenerInit;
  readonly #log: Logger;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port = 0;

  constructor(components: RelayListenerComponents, init: RelayListenerInit = {}) {
    this.#components = components;
    this.#init = init;
    this.#log = components.log.child({ component: 'relay' });
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    // No Nagle: a relay passes on each chunk as it comes, and a small one held back for the
    // previous one's ACK (which the peer may delay) adds milliseconds to every exchange.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
      this.#accept(socket),
    );
    server.listen(this.#init.port ?? 0, this.#init.host ?? '0.0.0.0');
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err as Error)),
    ]);
    this.#server = server;
    this.#port = (server.address() as { port: number }).port;
    this.#log.info({ port: this.#port }, 'relay listening');
  }

  /** Stops accepting and closes every relay; safe to call twice. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    void this.#relay(socket);
  }

  async #relay(socket: Socket): Promise<void> {
    const { targets, limits, stats } = this.#components;
    const source = socket.remoteAddress ?? 'unknown';
    let serverName: string;
    let head: Buffer;
    try {
      ({ serverName, head } = await readServerName(socket, {
        timeoutMs: this.#init.helloTimeoutMs,
        maxHelloBytes: this.#init.maxHelloBytes,
      }));
    } catch (err) {
      const reason = err instanceof ClientHelloError ? err.reason : 'malformed';
      return this.#refuse(socket, 'bad-hello', { source, why: reason, details: (err as Error).message });
    }
    if (!targets.advertised(serverName)) {
      return this.#refuse(socket, 'not-advertised', { source, targetId: serverName });
    }
    const slot = limits.acquire(serverName, source);
    if (typeof slot === 'string') return this.#refuse(socket, slot, { source, targetId: serverName });
    stats.active++;
    try {
      let target: Duplex;
      try {
        target = await targets.openRelay(serverName, { timeoutMs: this.#init.connectTimeoutMs ?? 10_000 });
      } catch (err) {
        return this.#refuse(socket, 'unreachable', { source, targetId: serverName, details: (err as Error).message });
      }
      if (socket.destroyed || !this.#server) {
        // The peer gave up, or the bridge is stopping: the target's connection goes unused.
        target.destroy();
        if (!this.#server) this.#components.stats.refused('stopped');
        return;
      }
      stats.connections++;
      this.#log.debug({ source, targetId: serverName }, 'relay open');
      target.write(head);
      this.#components.tap?.('to-target', head);
      await splice(socket, target, {
        idleTimeoutMs: this.#init.idleTimeoutMs ?? 5 * 60_000,
        tap: (direction, chunk) => {
          if (direction === 'to-target') stats.bytesToTarget += chunk.length;
          else stats.bytesFromTarget += chunk.length;
          this.#components.tap?.(direction, chunk);
        },
      });
      stats.bytesToTarget += head.length;
      this.#log.debug({ source, targetId: serverName }, 'relay closed');
    } finally {
      stats.active--;
      slot();
    }
  }

  #refuse(socket: Socket, reason: RelayRefusal, details: Record<string, string>): void {
    this.#components.stats.refused(reason);
    this.#log.info({ reason, ...details }, 'relay refused');
    // The client's TLS stack sees the connection close: there is no way to say more in the clear.
    socket.destroy();
  }
}
