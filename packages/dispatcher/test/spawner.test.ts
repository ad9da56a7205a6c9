import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedChild, Spawner } from '../src/orchestrator/spawner.js';
import { childrenOf, isAlive } from './helpers/proc.js';

const SLEEPER = ['-e', "console.log('up'); setTimeout(() => {}, 60_000)"];

function firstLine(child: SpawnedChild): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0] as string);
    });
  });
}

describe('Spawner', () => {
  const spawner = new Spawner();
  const started: SpawnedChild[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.pid && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
    spawner.close();
  });

  it('starts processes from its helper: their output, pid, niceness, signals and exit come through', async () => {
    const child = spawner.spawn(process.execPath, SLEEPER, process.env, 5);
    started.push(child);
    expect(await firstLine(child)).toBe('up');
    const pid = child.pid as number;
    const statLine = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const stat = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
    // The parent is the helper, not this process; field 19 of stat is the niceness.
    expect(Number(stat[1])).not.toBe(process.pid);
    expect(Number(stat[16])).toBe(5);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(child.signalCode).toBe('SIGTERM');

    const missing = spawner.spawn('/no/such/command', [], process.env, 0);
    let stderr = '';
    missing.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    await once(missing, 'exit');
    expect(stderr).toContain('ENOENT');
  });

  it('counts the children of a helper that died as killed, and starts a new helper for the next spawn', async () => {
    const child = spawner.spawn(process.execPath, SLEEPER, process.env, 0);
    started.push(child);
    await firstLine(child);
    const helpers = childrenOf(process.pid).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawner-process'),
    );
    expect(helpers).toHaveLength(1);
    const exited = once(child, 'exit');
    process.kill(helpers[0] as number, 'SIGKILL');
    expect(await exited).toEqual([null, 'SIGKILL']);

    const next = spawner.spawn(process.execPath, SLEEPER, process.env, 0);
    started.push(next);
    expect(await firstLine(next)).toBe('up');
  });
});
