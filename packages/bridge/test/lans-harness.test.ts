import { access } from 'node:fs/promises';
import { run } from '@p2p-messenger/discovery/lab';
import { describe, expect, it } from 'vitest';
import { BridgedLans, BridgeProcess } from '../src/harness/index.js';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the bridged-LAN harness', () => {
  const bridgedLans = bridgedLansPerTest();

  it('refuses a lab it cannot build, before building anything', async () => {
    await expect(BridgedLans.create({ lans: 1 })).rejects.toThrow(/at least 2 LANs/);
    await expect(BridgedLans.create({ lans: 2, topology: 'triangle' })).rejects.toThrow(/exactly 3 LANs/);
    await expect(BridgedLans.create({ lans: 2.5 })).rejects.toMatchObject({ name: 'RangeError' });
  });

  it('says what a bridge printed when it does not start, and removes everything it started', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const host = await lab.addHost(0);
    // Trusting bridges while listening nowhere is a mistake the command refuses (exit code 2).
    const refused = BridgeProcess.start(lab.lab, host, {
      dataDir: lab.dataDir('mistaken'),
      trust: [lab.lanOf(0).bridgeId],
    });
    await expect(refused).rejects.toThrow(/exited \(2\) before it was ready[\s\S]*does not listen: add --listen/);

    const peer = await lab.startPeer(1, 'bob');
    await lab.bridge(0).metrics(); // opens a tunnel into the bridge's host
    const pids = [...lab.lans.map((l) => l.bridge?.pid), peer.peer.child.pid];
    expect(pids.every(alive)).toBe(true);
    const namespaces = [...lab.lans.map((l) => l.bridgeHost.netns), host.netns, peer.host.netns];
    const dataDir = lab.lanOf(0).dataDir;

    await lab.destroy();
    expect(pids.filter(alive)).toEqual([]);
    const left = (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]);
    expect(namespaces.filter((ns) => left.includes(ns))).toEqual([]);
    await expect(access(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
    // Safe to call twice.
    await lab.destroy();
  }, 120_000);
});
