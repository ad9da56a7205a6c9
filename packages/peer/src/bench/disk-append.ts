import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What this machine's kernel charges to append `count` blocks of `blockBytes` to a new file
 * (no fsync): the floor under any store that keeps every bulk message, on each side.
 * Returns CPU microseconds (user + system) per block.
 */
export function measureAppendCpu(dir: string, count: number, blockBytes: number): number {
  const path = join(dir, 'append-probe');
  const block = Buffer.alloc(blockBytes, 0x78);
  const fd = openSync(path, 'a');
  try {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) writeSync(fd, block);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
