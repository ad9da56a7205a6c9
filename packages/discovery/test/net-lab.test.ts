import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, type LabInterface, type Lan, NetLab, run } from '../src/lab/index.js';

/** The built lab, for a lab in another process; the test command builds first, so dist is current. */
const LAB_DIST = fileURLToPath(new URL('../dist/lab/index.js', import.meta.url));

/**
 * A lab of another process, which gives this machine an address on its LAN number `lanIndex`
 * and keeps it until told to stop (its stdin ends); `held` settles once it has it.
 */
function labOfAnotherProcess(lanIndex: number) {
  const script = `const { NetLab } = await import(${JSON.stringify(LAB_DIST)});
    const lab = await NetLab.create();
    const lans = [];
    for (let i = 0; i < ${lanIndex}; i++) lans.push(await lab.addLan());
    await lab.joinRoot(lans.at(-1));
    process.stdout.write('held');
    process.stdin.resume().on('end', () => lab.destroy());`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const held = Promise.race([
    once(child.stdout, 'data'),
    exited.then((exit) => Promise.reject(new Error(`the other lab exited first: ${JSON.stringify(exit)}`))),
  ]);
  return { held, release: () => child.stdin.end(), exited, kill: () => child.kill('SIGKILL') };
}

/** Whether `from` can reach `to` over TCP/IP: one ping, answered or not within a second. */
async function pings(lab: NetLab, from: LabHost, to: string): Promise<boolean> {
  return lab.exec(from, 'ping', ['-c', '1', '-W', '1', to]).then(
    () => true,
    () => false,
  );
}

describe('NetLab hosts on two LANs', () => {
  let lab: NetLab;
  let home: LabHost;
  let cloud: LabHost;
  let homeBridge: LabHost;
  let cloudBridge: LabHost;
  let homeWan: LabInterface;
  let cloudWan: LabInterface;
  let wan: Lan;
  beforeAll(async () => {
    if (!(await NetLab.available())) throw new Error('these tests need root and iproute2 (ip netns)');
    lab = await NetLab.create();
    const [homeLan, wanLan, cloudLan] = [await lab.addLan(), await lab.addLan(), await lab.addLan()];
    wan = wanLan;
    home = await lab.addHost(homeLan);
    homeBridge = await lab.addHost(homeLan);
    homeWan = await lab.join(homeBridge, wan);
    cloudBridge = await lab.addHost(cloudLan);
    cloudWan = await lab.join(cloudBridge, wan);
    cloud = await lab.addHost(cloudLan);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('reach their LANs, never forward between them, and can have a link cut and restored', async () => {
    expect(homeBridge.interfaces.map((i) => i.name)).toEqual(['eth0', 'eth1']);
    expect(homeWan.ipv4).not.toBe(homeBridge.ipv4);
    // Each bridge host reaches its own LAN and the other bridge on the shared one.
    expect(await pings(lab, homeBridge, home.ipv4)).toBe(true);
    expect(await pings(lab, homeBridge, cloudWan.ipv4)).toBe(true);
    expect(await pings(lab, cloudBridge, cloud.ipv4)).toBe(true);
    // A peer at home has no way to the cloud's LAN, nor to the shared one.
    expect(await pings(lab, home, cloud.ipv4)).toBe(false);
    expect(await pings(lab, home, cloudWan.ipv4)).toBe(false);
    await lab.setLink(homeBridge, 'eth1', false);
    expect(await pings(lab, homeBridge, cloudWan.ipv4)).toBe(false);
    await lab.setLink(homeBridge, 'eth1', true);
    await expect.poll(() => pings(lab, homeBridge, cloudWan.ipv4), { timeout: 10_000 }).toBe(true);
  });

  it('give this machine itself an address on one LAN, which that LAN reaches and no other', async () => {
    const root = await lab.joinRoot(wan);
    expect(root.ipv4).toBe(`10.${200 + wan.index}.0.254`);
    expect(await pings(lab, homeBridge, root.ipv4)).toBe(true);
    expect(await pings(lab, cloudBridge, root.ipv4)).toBe(true);
    expect(await pings(lab, home, root.ipv4)).toBe(false);
    // And this machine reaches the hosts on that LAN (the others' addresses it must not even try:
    // they are no route of its own, and would go where its default route goes).
    expect(await run('ping', ['-c', '1', '-W', '1', homeWan.ipv4])).toContain('1 received');
    await expect(lab.joinRoot(wan)).rejects.toThrow(/this process holds 10\.\d+\.0\.254 already/);
  });

  it("give this machine an address another process's lab has only once that lab let go of it", async () => {
    const cloudLan = cloud.lan;
    const other = labOfAnotherProcess(cloudLan.index);
    try {
      await other.held;
      await expect(lab.joinRoot(cloudLan, 500)).rejects.toMatchObject({ name: 'RootAddressBusyError' });
      other.release();
      expect(await other.exited).toEqual([0, null]);
      const root = await lab.joinRoot(cloudLan);
      expect(await pings(lab, cloud, root.ipv4)).toBe(true);
    } finally {
      other.kill();
    }
  });
});
