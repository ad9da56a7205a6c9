import type { EventEmitter } from 'node:events';

/** A peer that did not start, with the reason (what it said, or what its orchestrator saw). */
export class PeerStartError extends Error {
  override name = 'PeerStartError';
  /**
   * The reason lasts until someone acts (no engine, no image): starting again soon will not
   * help, and those waiting for a peer are told so. A start that was slow or crashed may not.
   */
  readonly lasting: boolean = false;
}

/** One running (or restarting) peer instance. */
export interface PeerInstance {
  /** The orchestrator's handle (also its data dir's name). */
  instanceId: string;
  peerId: string;
  name: string;
  fingerprint: string;
  /** Where the dispatcher reaches it. */
  address: string;
  greetingPort: number;
  securePort: number;
  /** The owner's web server (the router sends the user there). */
  webPort: number;
  state: 'running' | 'restarting' | 'stopped';
  restarts: number;
  startedAtMs: number;
}

export interface OrchestratorEvents {
  /** An instance died unexpectedly; it is being restarted. */
  died: [instance: PeerInstance, exitCode: number | null];
  /** An instance is up again after dying (same data, so the same peer id). */
  restarted: [instance: PeerInstance];
}

export interface PeerSpec {
  name: string;
  /** An instance that ran before: started again from its data, so with its identity and history. */
  instanceId?: string;
}

/**
 * Starts, stops and inspects peer instances. Implementations: LocalProcessOrchestrator
 * (child processes on this machine) and SwarmOrchestrator (a Swarm service per peer).
 */
export interface Orchestrator extends EventEmitter<OrchestratorEvents> {
  /**
   * Takes over the instances that outlived a previous dispatcher (Swarm services do; local
   * processes end with it), so that `list` shows them. Called once, before any start.
   */
  resume(): Promise<void>;
  /** Starts an instance, or (by `instanceId`) the one of that id again: same data, same peer. */
  start(spec: PeerSpec): Promise<PeerInstance>;
  /** Stops an instance for good (no restart); `deleteData` also deletes its identity and history. */
  stop(instanceId: string, options?: { deleteData?: boolean }): Promise<void>;
  inspect(instanceId: string): PeerInstance | null;
  /**
   * Marks whose the instance is, where an operator looks (a Swarm service's labels); not waited
   * for. Local processes have nowhere to show it (the catalog says it).
   */
  setOwner?(instanceId: string, owner: string): void;
  list(): PeerInstance[];
  /**
   * Lets go: local processes are stopped (they cannot outlive the dispatcher); Swarm services
   * go on running, for the next dispatcher to resume.
   */
  close(): Promise<void>;
}
