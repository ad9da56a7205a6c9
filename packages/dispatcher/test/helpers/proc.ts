import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What tests learn about processes from /proc, as `ss -p` or `ps` would tell. */

/** The pid of the process listening on a loopback TCP port. */
export function listenerPid(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inode = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')?.[9];
  if (!inode) throw new Error(`nothing listens on ${port}`);
  for (const pid of pids()) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      }
    } catch {
      // A process that went away, or one we may not look into.
    }
  }
  throw new Error(`no process holds the socket of port ${port}`);
}

/** The pids of the processes whose parent is `parent`. */
export function childrenOf(parent: number): number[] {
  return pids().filter((pid) => {
    try {
      // After the command (in parentheses) of /proc/<pid>/stat: the state, then the parent's pid.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

/** The pids of the processes whose command line mentions `text` (e.g. a data dir). */
export function processesMentioning(text: string): number[] {
  return pids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

/** Whether `pid` still runs: a zombie (ended, not yet reaped by whoever adopted it) does not. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}
