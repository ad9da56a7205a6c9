import type { EventEmitter } from 'node:events';

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
 * (child processes on this machine); a Swarm one later.
 */
export interface Orchestrator extends EventEmitter<OrchestratorEvents> {
  start(spec: PeerSpec): Promise<PeerInstance>;
  /** Stops an instance for good (no restart); `deleteData` also deletes its identity and history. */
  stop(instanceId: string, options?: { deleteData?: boolean }): Promise<void>;
  inspect(instanceId: string): PeerInstance | null;
  list(): PeerInstance[];
  /** Stops every instance. */
  close(): Promise<void>;
}
