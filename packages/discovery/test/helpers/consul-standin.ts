import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentState } from './consul-standin/agent-state.js';
import type { CheckStatus } from './consul-standin/registration.js';
import { createRequestHandler } from './consul-standin/routes.js';

export type { HealthCheckEntry, HealthEntry } from './consul-standin/health-view.js';
export type { CheckStatus };

export interface ConsulStandInOptions {
  /** 0 (the default) picks a free port; give the port of a stopped stand-in to bring "the agent" back there. */
  readonly port?: number;
  /**
   * The address to listen on; default loopback. Another local address (e.g. a Docker bridge's
   * gateway) lets containers reach the stand-in, as peers in a Swarm reach their agent.
   */
  readonly host?: string;
}

export interface StandInCheck {
  readonly id: string;
  readonly name: string;
  readonly status: CheckStatus;
  readonly output: string;
  readonly notes: string;
}

export interface StandInService {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly address: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly checks: readonly StandInCheck[];
}

/**
 * A stand-in for a single Consul dev agent's HTTP API, for tests on machines without Consul. It serves:
 *
 * - `PUT /v1/agent/service/register` (`?replace-existing-checks`), with TTL checks only;
 * - `PUT /v1/agent/service/deregister/:id`;
 * - `PUT /v1/agent/check/pass|warn|fail/:checkId` (`?note`);
 * - `GET /v1/health/service/:service` (`?passing`, `?tag`, blocking `?index` and `?wait`);
 * - `GET /v1/agent/self` and `GET /v1/status/leader`, for liveness probes;
 * - KV: `GET /v1/kv/:key` (`?recurse`, blocking `?index` and `?wait`; 404 when nothing matches), `PUT /v1/kv/:key`
 *   (`?cas`, `?flags`; answers true or false), `DELETE /v1/kv/:key` (`?cas`, `?recurse`);
 * - `PUT /v1/txn` with KV operations (set, cas, get, get-tree, check-index, check-not-exists, delete, delete-tree,
 *   delete-cas): all or nothing, 409 with `Errors` when one fails, at most 64 operations (413 beyond).
 *
 * TTLs run on real timers. Where it knowingly differs from Consul:
 * - critical services are reaped every 100 ms rather than every 30 s, and DeregisterCriticalServiceAfter may be
 *   under Consul's 1 min minimum;
 * - one index covers all services, so a blocking query also wakes on other services' changes (Consul's
 *   contract allows such wake-ups; a real agent keeps an index per service);
 * - a blocking query whose index is above the current one (it was made against an earlier stand-in on the same
 *   port) is answered at once, where a Consul server would hold it until `wait` ran out; either way the client
 *   sees the index go back and must reset it;
 * - KV reads report the one index as `X-Consul-Index`, where Consul reports the highest ModifyIndex of what
 *   matched (or the KV table's index); both only grow with writes, which is what blocking clients rely on.
 */
export class ConsulStandIn {
  readonly host: string;
  readonly port: number;
  /** `host:port`, the form CONSUL_HTTP_ADDR takes. */
  readonly address: string;
  /** `http://host:port`, for fetch. */
  readonly url: string;
  readonly #server: Server;
  readonly #state: AgentState;
  #stopped: Promise<void> | undefined;

  private constructor(server: Server, state: AgentState, host: string, port: number) {
    this.#server = server;
    this.#state = state;
    this.host = host;
    this.port = port;
    this.address = `${this.host}:${port}`;
    this.url = `http://${this.address}`;
  }

  static async start(options: ConsulStandInOptions = {}): Promise<ConsulStandIn> {
    const state = new AgentState();
    const host = options.host ?? '127.0.0.1';
    const server = createServer(createRequestHandler(state));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      state.close();
      throw error;
    }
    return new ConsulStandIn(server, state, host, (server.address() as AddressInfo).port);
  }

  /** The current raft-like index, as the next `X-Consul-Index` will say. */
  get index(): number {
    return this.#state.index;
  }

  /** What is registered, by service ID, each with its checks as `/v1/health` shows them. */
  services(): StandInService[] {
    return this.#state.allInstances().map(({ service, checks }) => ({
      id: service.id,
      name: service.name,
      tags: service.tags,
      address: service.address,
      port: service.port,
      meta: service.meta,
      checks: checks.map(({ id, name, status, output, notes }) => ({ id, name, status, output, notes })),
    }));
  }

  /** Every KV key under `prefix`, with its value as text. */
  kv(prefix = ''): { key: string; value: string }[] {
    return this.#state.kv.prefixed(prefix).map((record) => ({ key: record.key, value: record.value.toString('utf8') }));
  }

  /**
   * Drops every service and check, as an agent restarted without its data dir would, and wakes every blocking
   * query. The address keeps answering; registrations must be made again.
   */
  forgetAll(): void {
    this.#state.forgetAll();
  }

  /**
   * An outage: stops listening and cuts every connection, pending blocking queries included, so clients see
   * errors rather than answers. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      // close() alone would wait for the open connections, and a blocking query may hold one for minutes.
      this.#server.closeAllConnections();
      this.#state.close();
    });
    return this.#stopped;
  }
}
