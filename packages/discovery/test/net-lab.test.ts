import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, type LabInterface, NetLab } from '../src/lab/index.js';

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
  beforeAll(async () => {
    if (!(await NetLab.available())) throw new Error('these tests need root and iproute2 (ip netns)');
    lab = await NetLab.create();
    const [homeLan, wan, cloudLan] = [await lab.addLan(), await lab.addLan(), await lab.addLan()];
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
});
