import { setPriority } from 'node:os';

/** Best effort: raising a process's priority again needs privileges some hosts do not give. */
export function trySetNiceness(pid: number | undefined, niceness: number): void {
  try {
    if (pid) setPriority(pid, niceness);
  } catch {
    // It runs at the priority it has.
  }
}
