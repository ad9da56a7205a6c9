import type { PeerInstance } from './orchestrator.js';

/** The instances an orchestrator keeps, by instance id; it hands out copies, never its own. */
export class InstanceTable<T extends { instance: PeerInstance }> extends Map<string, T> {
  inspect(instanceId: string): PeerInstance | null {
    const entry = this.get(instanceId);
    return entry ? { ...entry.instance } : null;
  }

  instances(): PeerInstance[] {
    return [...this.values()].map((entry) => ({ ...entry.instance }));
  }
}
