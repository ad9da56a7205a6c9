import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, type LabInterface, type Lan, NetLab, run } from '../src/lab/index.js';

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
    await expect(lab.joinRoot(wan)).rejects.toThrow(/in use on this machine already/);
  });
});
