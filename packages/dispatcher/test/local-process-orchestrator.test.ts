import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalProcessOrchestrator, type PeerInstance } from '../src/index.js';

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('LocalProcessOrchestrator', () => {
  let dir: string;
  let orchestrator: LocalProcessOrchestrator;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrator-'));
    orchestrator = new LocalProcessOrchestrator({ dataRoot: dir });
  });
  afterEach(async () => {
    await orchestrator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts peers as child processes, each with its own identity and ports', async () => {
    const [a, b] = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
    expect(a.peerId).not.toBe(b.peerId);
    expect(a.greetingPort).not.toBe(b.greetingPort);
    for (const instance of [a, b]) {
      expect(await answers(instance.greetingPort)).toBe(true);
      expect(await answers(instance.securePort)).toBe(true);
    }
    expect(
      orchestrator
        .list()
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual([a.instanceId, b.instanceId].sort());
    expect(orchestrator.inspect(a.instanceId)).toMatchObject({ state: 'running', restarts: 0, name: 'ada' });
  });

  it('restarts a peer that died, with the same identity', async () => {
    const instance = await orchestrator.start({ name: 'ada' });
    expect(orchestrator.list()).toHaveLength(1);
    const restarted = new Promise<PeerInstance>((resolve) => orchestrator.once('restarted', resolve));
    const died = new Promise((resolve) => orchestrator.once('died', resolve));
    process.kill(await childPid(instance.greetingPort), 'SIGKILL');
    await died;
    const again = await restarted;
    expect(again).toMatchObject({ instanceId: instance.instanceId, peerId: instance.peerId, restarts: 1 });
    expect(orchestrator.inspect(instance.instanceId)?.state).toBe('running');
  });

  it('stops a peer for good: no restart, ports released', async () => {
    const instance = await orchestrator.start({ name: 'ada' });
    await orchestrator.stop(instance.instanceId);
    expect(orchestrator.inspect(instance.instanceId)).toBeNull();
    expect(await answers(instance.greetingPort)).toBe(false);
  });

  it('says why a peer could not start', async () => {
    const broken = new LocalProcessOrchestrator({
      dataRoot: dir,
      command: [process.execPath, '-e', 'process.exit(3)', '--'],
    });
    await expect(broken.start({ name: 'ada' })).rejects.toThrow(/exited with 3 before it was ready/);
  });
});

/** The pid of the process listening on a loopback port (from /proc, as ss would tell). */
async function childPid(port: number): Promise<number> {
  const { readFileSync, readdirSync, readlinkSync } = await import('node:fs');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inode = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')?.[9];
  if (!inode) throw new Error(`nothing listens on ${port}`);
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(pid);
      }
    } catch {
      // A process that went away, or one we may not look into.
    }
  }
  throw new Error(`no process holds the socket of port ${port}`);
}
