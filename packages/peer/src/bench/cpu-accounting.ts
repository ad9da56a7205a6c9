import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks a second in /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * CPU seconds a container used so far, from its cgroup on this host (cgroup v1 with the
 * cgroupfs driver, or v2); null where this host keeps them elsewhere.
 */
export async function containerCpuSeconds(containerId: string): Promise<number | null> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, 'utf8').catch(() => null);
  if (v1 !== null) return Number(v1) / 1e9;
  for (const dir of [`docker/${containerId}`, `system.slice/docker-${containerId}.scope`]) {
    const stat = await readFile(`/sys/fs/cgroup/${dir}/cpu.stat`, 'utf8').catch(() => null);
    const usec = stat?.match(/^usage_usec (\d+)$/m)?.[1];
    if (usec) return Number(usec) / 1e6;
  }
  return null;
}

/** CPU seconds (user and system) of the processes with this command name, e.g. dockerd. */
export async function processCpuSeconds(command: string): Promise<number> {
  let seconds = 0;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command) seconds += cpuSecondsOfStat(stat);
  }
  return seconds;
}

/** CPU seconds (user and system) one process used so far; 0 once it is gone. */
export async function pidCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat ? cpuSecondsOfStat(stat) : 0;
}

function cpuSecondsOfStat(stat: string): number {
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** The sum over containers (those whose cgroup cannot be read count nothing). */
export async function containersCpuSeconds(containerIds: readonly string[]): Promise<number> {
  const each = await Promise.all(containerIds.map(containerCpuSeconds));
  return each.reduce<number>((sum, s) => sum + (s ?? 0), 0);
}
