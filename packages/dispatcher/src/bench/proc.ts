import { readdir, readFile } from 'node:fs/promises';

export interface Memory {
  /** VmRSS: all resident pages, the Node binary's and shared libraries' (shared with other processes) included. */
  rssMb: number;
  /** RssAnon: the resident pages of this process alone (heaps, stacks). */
  anonMb: number;
}

/** Resident memory of a process, in MiB (as top and ps count); null once it is gone. */
export async function memoryOf(pid: number): Promise<Memory | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const rss = status?.match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
  const anon = status?.match(/^RssAnon:\s+(\d+) kB$/m)?.[1];
  if (rss === undefined || anon === undefined) return null;
  return { rssMb: Number(rss) / 1024, anonMb: Number(anon) / 1024 };
}

/** The pids whose parent is `pid`, from every /proc/<pid>/stat (ppid is the 2nd field after the name). */
export async function childrenOf(pid: number): Promise<number[]> {
  const entries = await readdir('/proc');
  const children: number[] = [];
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
        // The name, in parentheses, may itself hold spaces and parentheses: skip past the last ')'.
        const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (fields && Number(fields[1]) === pid) children.push(Number(name));
      }),
  );
  return children;
}

/** Whether `pid` still runs a command line that mentions `marker` (no confusion with a reused pid). */
export async function runs(pid: number, marker: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return cmdline?.includes(marker) ?? false;
}
