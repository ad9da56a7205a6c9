import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalProcessOrchestrator, type PeerInstance } from '../src/index.js';
import { listenerPid } from './helpers/proc.js';

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
    process.kill(listenerPid(instance.greetingPort), 'SIGKILL');
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
