import { type KvOperation, type KvRecord, KvTable } from './kv-table.js';
import type { CheckDefinition, CheckStatus, ServiceDefinition } from './registration.js';

/** The one node the stand-in plays: a single dev agent that is also the server and leader. */
export const NODE = {
  name: 'standin',
  id: '2f5b8c3e-7d1a-4e6b-9a0c-5d4e3f2a1b0c',
  address: '127.0.0.1',
  datacenter: 'dc1',
  /** The node and its serfHealth check were written before anything a test registers. */
  index: 5,
} as const;

/**
 * How often critical checks are compared with their DeregisterCriticalServiceAfter. Consul does this every
 * 30 s (and refuses timeouts under 1 min); the stand-in looks every 100 ms and takes any timeout, so tests can
 * watch a reap happen in well under a second.
 */
export const REAP_INTERVAL_MS = 100;

/** Like a freshly bootstrapped server's raft index: above 1, since clients take 0 as "blocking unsupported". */
const FIRST_INDEX = 10;

export interface ServiceRecord {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  meta: Record<string, string> | null;
  createIndex: number;
  modifyIndex: number;
}

/** What the catalog (and so `/v1/health`) shows of a check. */
export interface CheckRecord {
  id: string;
  name: string;
  notes: string;
  serviceId: string;
  status: CheckStatus;
  output: string;
  createIndex: number;
  modifyIndex: number;
}

export interface ServiceInstance {
  readonly service: ServiceRecord;
  readonly checks: CheckRecord[];
}

interface TtlCheck {
  readonly record: CheckRecord;
  readonly ttlMs: number;
  readonly deregisterAfterMs: number | undefined;
  /** When the check last turned critical; undefined while it is not critical. */
  criticalSince: number | undefined;
  /** The last note, which the TTL-expired output quotes, as Consul's does. */
  lastOutput: string;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The agent's services and TTL checks, one raft-like index over all of them, and the blocking queries
 * waiting for that index to move.
 */
export class AgentState {
  #index = FIRST_INDEX;
  #closed = false;
  readonly #services = new Map<string, ServiceRecord>();
  readonly #checks = new Map<string, TtlCheck>();
  readonly #waiters = new Set<() => void>();
  readonly #reaper: NodeJS.Timeout;
  /** The KV store, which shares the one index: a KV write wakes every blocking query too. */
  readonly kv = new KvTable();

  constructor() {
    this.#reaper = setInterval(() => this.#reap(), REAP_INTERVAL_MS);
    this.#reaper.unref();
  }

  get index(): number {
    return this.#index;
  }

  /** Adds or replaces a service. Its other checks stay unless `replaceExistingChecks`, as in Consul. */
  register(definition: ServiceDefinition, replaceExistingChecks: boolean): void {
    this.#commit(() => {
      const previous = this.#services.get(definition.id);
      this.#services.set(definition.id, {
        id: definition.id,
        name: definition.name,
        tags: [...definition.tags],
        address: definition.address,
        port: definition.port,
        meta: definition.meta && { ...definition.meta },
        createIndex: previous?.createIndex ?? 0,
        modifyIndex: previous?.modifyIndex ?? 0,
      });
      const stale = new Set(this.#checksOf(definition.id).map((check) => check.record.id));
      for (const check of definition.checks) {
        stale.delete(check.id);
        this.#addCheck(check, definition.id);
      }
      if (replaceExistingChecks) for (const id of stale) this.#removeCheck(id);
    });
  }

  /** False when there is no such service. */
  deregister(serviceId: string): boolean {
    if (!this.#services.has(serviceId)) return false;
    this.#commit(() => this.#removeService(serviceId));
    return true;
  }

  /** A TTL update (`/v1/agent/check/pass|warn|fail`); false when there is no such check. */
  updateTtl(checkId: string, status: CheckStatus, note: string): boolean {
    const check = this.#checks.get(checkId);
    if (!check) return false;
    check.lastOutput = note;
    this.#commit(() => this.#setStatus(check, status, note));
    this.#armTtl(check);
    return true;
  }

  /** KV operations as one raft entry: all or nothing (KvOperationError), the writes all at the next index. */
  transactKv(operations: readonly KvOperation[]): (KvRecord | KvRecord[] | null)[] {
    const next = this.#index + 1;
    const results = this.kv.transact(operations, next);
    if (operations.some((op) => !['get', 'get-tree', 'check-index', 'check-not-exists'].includes(op.verb))) {
      this.#index = next;
      this.#wake();
    }
    return results;
  }

  /** Drops everything, like an agent that restarted without its local state; always wakes blocking queries. */
  forgetAll(): void {
    this.#commit(() => {
      for (const id of [...this.#services.keys()]) this.#removeService(id);
    }, true);
  }

  /** Instances of one service, in Consul's order (by service ID), each with its checks ordered by check ID. */
  instancesOf(serviceName: string): ServiceInstance[] {
    return this.allInstances().filter((instance) => instance.service.name === serviceName);
  }

  allInstances(): ServiceInstance[] {
    return [...this.#services.values()]
      .sort((a, b) => byteOrder(a.id, b.id))
      .map((service) => ({
        service: { ...service, tags: [...service.tags], meta: service.meta && { ...service.meta } },
        checks: this.#checksOf(service.id)
          .map((check) => ({ ...check.record }))
          .sort((a, b) => byteOrder(a.id, b.id)),
      }));
  }

  /**
   * Resolves once the index is no longer `index`, or after `timeoutMs`, or when `signal` aborts (the client
   * went away) or the state is closed.
   */
  waitForChange(index: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#index !== index || this.#closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** Stops every timer and releases every waiter. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const check of this.#checks.values()) clearTimeout(check.timer);
    this.#wake();
  }

  #checksOf(serviceId: string): TtlCheck[] {
    return [...this.#checks.values()].filter((check) => check.record.serviceId === serviceId);
  }

  #addCheck(definition: CheckDefinition, serviceId: string): void {
    const previous = this.#checks.get(definition.id);
    if (previous) clearTimeout(previous.timer);
    // A re-registered check starts over (critical unless told otherwise), as Consul's does.
    const status = definition.status ?? 'critical';
    const check: TtlCheck = {
      record: {
        id: definition.id,
        name: definition.name,
        notes: definition.notes,
        serviceId,
        status,
        output: '',
        createIndex: previous?.record.createIndex ?? 0,
        modifyIndex: previous?.record.modifyIndex ?? 0,
      },
      ttlMs: definition.ttlMs,
      deregisterAfterMs: definition.deregisterCriticalServiceAfterMs,
      criticalSince: status === 'critical' ? Date.now() : undefined,
      lastOutput: '',
      timer: undefined,
    };
    this.#checks.set(definition.id, check);
    this.#armTtl(check);
  }

  #removeService(serviceId: string): void {
    this.#services.delete(serviceId);
    for (const check of this.#checksOf(serviceId)) this.#removeCheck(check.record.id);
  }

  #removeCheck(checkId: string): void {
    clearTimeout(this.#checks.get(checkId)?.timer);
    this.#checks.delete(checkId);
  }

  #armTtl(check: TtlCheck): void {
    clearTimeout(check.timer);
    if (this.#closed) return;
    check.timer = setTimeout(() => {
      check.timer = undefined;
      if (this.#checks.get(check.record.id) !== check) return;
      const output = check.lastOutput
        ? `TTL expired (last output before timeout follows): ${check.lastOutput}`
        : 'TTL expired';
      // Not re-armed: like Consul's, the check stays critical until the next update.
      this.#commit(() => this.#setStatus(check, 'critical', output));
    }, check.ttlMs);
    check.timer.unref();
  }

  #setStatus(check: TtlCheck, status: CheckStatus, output: string): void {
    if (status === 'critical') check.criticalSince ??= Date.now();
    else check.criticalSince = undefined;
    // Consul writes output-only changes back lazily (check_update_interval, 5 min by default), so until the
    // status changes the catalog, and /v1/health, keep showing the old output and index.
    if (check.record.status === status) return;
    check.record.status = status;
    check.record.output = output;
  }

  #reap(): void {
    const now = Date.now();
    const doomed = new Set<string>();
    for (const { record, deregisterAfterMs, criticalSince } of this.#checks.values()) {
      if (deregisterAfterMs !== undefined && criticalSince !== undefined && now - criticalSince > deregisterAfterMs) {
        doomed.add(record.serviceId);
      }
    }
    if (doomed.size === 0) return;
    this.#commit(() => {
      for (const id of doomed) this.#removeService(id);
    });
  }

  /**
   * Applies `mutate`, then moves the index only if something the catalog shows changed (or `force`), stamping
   * Create/ModifyIndex on what changed: idempotent writes leave blocking queries asleep, as in Consul.
   */
  #commit(mutate: () => void, force = false): void {
    const before = new Map([...this.#fingerprints()].map(([key, , print]) => [key, print]));
    mutate();
    const next = this.#index + 1;
    let changed = force;
    let kept = 0;
    for (const [key, record, print] of this.#fingerprints()) {
      const old = before.get(key);
      if (old !== undefined) kept++;
      if (old === print) continue;
      changed = true;
      if (record.createIndex === 0) record.createIndex = next;
      record.modifyIndex = next;
    }
    if (!changed && kept === before.size) return;
    this.#index = next;
    this.#wake();
  }

  *#fingerprints(): Generator<[string, ServiceRecord | CheckRecord, string]> {
    for (const s of this.#services.values()) {
      yield [`service:${s.id}`, s, JSON.stringify([s.name, s.tags, s.address, s.port, s.meta])];
    }
    for (const { record: c } of this.#checks.values()) {
      yield [`check:${c.id}`, c, JSON.stringify([c.name, c.notes, c.serviceId, c.status, c.output])];
    }
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Byte-wise order, like Consul's memdb indexes (not locale order). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
