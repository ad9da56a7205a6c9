import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Neighbour (ARP and NDP) tables are shared by every namespace on the machine, and a lab of
 * many hosts that all talk to each other overflows the default limit (1024 entries): the
 * kernel then drops packets and sendmsg fails with EINVAL. A lab raises the limits while it
 * runs and the last lab puts the saved values back.
 */
const SETTINGS = ['ipv4', 'ipv6'].flatMap((family) =>
  ['gc_thresh1', 'gc_thresh2', 'gc_thresh3'].map((name) => `/proc/sys/net/${family}/neigh/default/${name}`),
);
const RAISED: Record<string, number> = { gc_thresh1: 1024, gc_thresh2: 16_384, gc_thresh3: 32_768 };
const SAVED = '/tmp/p2p-messenger-lab-neighbour-limits.json';

export function raiseNeighbourLimits(): void {
  const current = Object.fromEntries(SETTINGS.map((path) => [path, Number(readFileSync(path, 'utf8').trim())]));
  if (!existsSync(SAVED)) writeFileSync(SAVED, JSON.stringify(current));
  for (const path of SETTINGS) {
    const wanted = RAISED[path.split('/').at(-1) as string] as number;
    if ((current[path] ?? 0) < wanted) writeFileSync(path, String(wanted));
  }
}

export function restoreNeighbourLimits(): void {
  if (!existsSync(SAVED)) return;
  const saved = JSON.parse(readFileSync(SAVED, 'utf8')) as Record<string, number>;
  // thresh3 before thresh2 before thresh1 when lowering: the kernel wants them ordered.
  for (const path of [...SETTINGS].reverse()) {
    const value = saved[path];
    if (value !== undefined) writeFileSync(path, String(value));
  }
  rmSync(SAVED, { force: true });
}
