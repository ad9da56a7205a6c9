import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { containersCpuSeconds, processCpuSeconds } from './cpu-accounting.js';

export { pidCpuSeconds } from './cpu-accounting.js';

/** What this host had to spare over a while: how busy its CPUs were, and the memory left. */
export interface HostLoad {
  /** Of all cores together, 0 to 100. */
  cpuBusyPct: number;
  /** Of that, in the kernel (network, cgroups, the engine's syscalls). */
  cpuSystemPct: number;
  memAvailableGb: number;
  loadAverage1m: number;
  cores: number;
  /** Of all cores together: what the given containers used, and the Docker engine. */
  containersCpuPct: number;
  dockerdCpuPct: number;
}

interface CpuTimes {
  total: number;
  idle: number;
  system: number;
}

async function cpuTimes(): Promise<CpuTimes> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return {
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    idle: idle + iowait,
    system: system + irq + softirq,
  };
}

async function meminfo(key: string): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8');
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) * 1024;
}

/**
 * Samples the host's CPU (all processes, other users' included) while `during` runs, and
 * what `containers` and the engine took of it.
 */
export async function hostLoadDuring(during: () => Promise<void>, containers: readonly string[]): Promise<HostLoad> {
  const [before, containersBefore, dockerdBefore] = await Promise.all([
    cpuTimes(),
    containersCpuSeconds(containers),
    processCpuSeconds('dockerd'),
  ]);
  const begun = performance.now();
  await during();
  const [after, containersAfter, dockerdAfter] = await Promise.all([
    cpuTimes(),
    containersCpuSeconds(containers),
    processCpuSeconds('dockerd'),
  ]);
  const coreSeconds = ((performance.now() - begun) / 1000) * cpus().length;
  const share = (seconds: number) => Math.round((100 * seconds) / coreSeconds);
  const total = Math.max(1, after.total - before.total);
  const loadAverage = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
  return {
    cpuBusyPct: Math.round((100 * (total - (after.idle - before.idle))) / total),
    cpuSystemPct: Math.round((100 * (after.system - before.system)) / total),
    memAvailableGb: Math.round(((await meminfo('MemAvailable')) / 1024 ** 3) * 10) / 10,
    loadAverage1m: Number(loadAverage),
    cores: cpus().length,
    containersCpuPct: share(containersAfter - containersBefore),
    dockerdCpuPct: share(dockerdAfter - dockerdBefore),
  };
}
