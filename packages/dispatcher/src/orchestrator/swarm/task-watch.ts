import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { followReadyLine, type ReadyLine } from './ready-line.js';
import { LABELS } from './service-spec.js';
import { TaskFailedError, TaskPendingError } from './swarm-errors.js';

/** How often a start looks at its task (to tell why it fails); the healthy peer itself comes as an event. */
const TASK_LOOK_MS = 1_000;
/** The engine's clock and ours may differ a little (one machine here, several in a real Swarm). */
const CLOCK_SLACK_MS = 2_000;

interface TaskState {
  state: string;
  message: string;
}

/** One peer service's way to a healthy peer (or the reason it will not get there), and its end. */
export class TaskWatch {
  readonly #docker: Docker;
  readonly #serviceId: string;
  readonly #startTimeoutMs: number;
  readonly #pendingTimeoutMs: number;

  constructor(docker: Docker, serviceId: string, init: { startTimeoutMs?: number; pendingTimeoutMs?: number } = {}) {
    this.#docker = docker;
    this.#serviceId = serviceId;
    this.#startTimeoutMs = init.startTimeoutMs ?? 60_000;
    this.#pendingTimeoutMs = init.pendingTimeoutMs ?? 20_000;
  }

  /**
   * Resolves with the peer's ready line as soon as it prints it. Rejects with Swarm's reason
   * when its task is rejected or fails first, or stays pending, or when nothing comes in time.
   */
  async untilReady(name: string): Promise<ReadyLine> {
    const abort = new AbortController();
    try {
      return await Promise.race([
        followReadyLine(this.#docker, this.#serviceId, abort.signal),
        this.#failure(name, abort.signal),
      ]);
    } finally {
      abort.abort();
    }
  }

  /** Resolves once no container of the instance is left (after its service was removed). */
  async untilNoContainers(instanceId: string, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const left = await this.#docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.instanceId}=${instanceId}`] },
      });
      if (left.length === 0) return;
      await sleep(250);
    }
  }

  /** Rejects as soon as the task shows it will not come up; never resolves. */
  async #failure(name: string, signal: AbortSignal): Promise<never> {
    const began = Date.now();
    let state = 'not created';
    let message = '';
    let stateSince = began;
    while (!signal.aborted) {
      const task = await this.#telling(began);
      if (task) {
        if (task.state !== state) stateSince = Date.now();
        ({ state, message } = task);
        if (state === 'rejected' || state === 'failed') {
          throw new TaskFailedError(`the task of peer ${name} ${state}: ${message}`);
        }
        if (state === 'pending' && Date.now() - stateSince > this.#pendingTimeoutMs) {
          throw new TaskPendingError(
            `the task of peer ${name} is still pending after ${this.#pendingTimeoutMs / 1000} s: ${message}`,
          );
        }
      }
      if (Date.now() - began > this.#startTimeoutMs) {
        throw new TaskFailedError(
          `peer ${name} was not healthy within ${this.#startTimeoutMs / 1000} s (task ${state}${message ? `: ${message}` : ''})`,
        );
      }
      await sleep(TASK_LOOK_MS, undefined, { signal }).catch(() => {});
    }
    return new Promise<never>(() => {});
  }

  /**
   * The task that tells most: one that failed or was rejected since the watch began (Swarm
   * replaces it at once, so the newest alone would hide it), else the newest.
   */
  async #telling(since: number): Promise<TaskState | null> {
    const tasks = (await this.#docker.listTasks({ filters: { service: [this.#serviceId] } })).map((task) => {
      const status = (task.Status ?? {}) as { State?: string; Err?: string; Message?: string };
      return {
        createdMs: Date.parse(String(task.CreatedAt)),
        state: status.State ?? 'unknown',
        message: [status.Message, status.Err].filter(Boolean).join(': '),
      };
    });
    const failed = tasks.find(
      (t) => (t.state === 'failed' || t.state === 'rejected') && t.createdMs >= since - CLOCK_SLACK_MS,
    );
    const newest = tasks.sort((a, b) => b.createdMs - a.createdMs)[0];
    const telling = failed ?? newest;
    return telling ? { state: telling.state, message: telling.message } : null;
  }
}
