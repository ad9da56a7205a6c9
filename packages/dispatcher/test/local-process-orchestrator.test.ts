import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalProcessOrchestrator } from '../src/index.js';
import { orchestratorCompliance } from './helpers/orchestrator-compliance.js';
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

orchestratorCompliance('LocalProcessOrchestrator', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrator-'));
  return {
    create: () => new LocalProcessOrchestrator({ dataRoot: dir }),
    kill: async (instance) => {
      process.kill(listenerPid(instance.greetingPort), 'SIGKILL');
    },
    broken: () => ({
      orchestrator: new LocalProcessOrchestrator({
        dataRoot: dir,
        command: [process.execPath, '-e', 'process.exit(3)', '--'],
      }),
      error: /exited with 3 before it was ready/,
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

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

  it('starts peers as child processes on loopback, each on ports of its own', async () => {
    const [a, b] = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
    expect(a.greetingPort).not.toBe(b.greetingPort);
    for (const instance of [a, b]) {
      expect(instance.address).toBe('127.0.0.1');
      expect(await answers(instance.greetingPort)).toBe(true);
      expect(await answers(instance.securePort)).toBe(true);
    }
  });

  it('stops a peer for good: no restart, ports released', async () => {
    const instance = await orchestrator.start({ name: 'ada' });
    await orchestrator.stop(instance.instanceId);
    expect(orchestrator.inspect(instance.instanceId)).toBeNull();
    expect(await answers(instance.greetingPort)).toBe(false);
  });
});
