import type Docker from 'dockerode';
import { memoryOf } from './proc.js';

/** A container's memory as its cgroup counts it, in MiB. */
export interface ContainerMemory {
  /** What `docker stats` shows: the cgroup's usage less its inactive file cache. */
  usageMb: number;
  /** Anonymous memory alone (the cgroup's rss / anon: heaps, stacks), none of the page cache. */
  anonMb: number;
  /** VmRSS of its main process (the peer's Node), pages of the Node binary it shares with others included. */
  processRssMb: number | null;
}

interface MemoryStats {
  usage?: number;
  stats?: Record<string, number>;
}

const MIB = 1024 * 1024;

/** One reading of the engine's stats (cgroup v1 and v2 name the counters apart). */
export async function containerMemory(docker: Docker, containerId: string): Promise<ContainerMemory | null> {
  const stats = (await docker
    .getContainer(containerId)
    .stats({ stream: false })
    .catch(() => null)) as { memory_stats?: MemoryStats } | null;
  const memory = stats?.memory_stats;
  if (!memory?.usage || !memory.stats) return null;
  const counters = memory.stats;
  const inactiveFile = counters.total_inactive_file ?? counters.inactive_file ?? 0;
  const anon = counters.total_rss ?? counters.anon ?? 0;
  const pid = (await docker.getContainer(containerId).inspect()).State.Pid;
  const process = pid > 0 ? await memoryOf(pid) : null;
  return { usageMb: (memory.usage - inactiveFile) / MIB, anonMb: anon / MIB, processRssMb: process?.rssMb ?? null };
}
