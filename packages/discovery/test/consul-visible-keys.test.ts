import { EventLog } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulDirectory } from '../src/index.js';
import { CONSUL_TIMING, testPeerInfo } from './helpers/consul-network.js';
import { ConsulStandIn } from './helpers/consul-standin.js';

const PORTS = { greetingPort: 7400, securePort: 7401 };
let services = 0;

describe('ConsulDirectory gated by a KV prefix (who may be seen)', () => {
  let agent: string;
  let standIn: ConsulStandIn | null = null;
  let prefix: string;
  let serviceName: string;
  const directories: ConsulDirectory[] = [];
  beforeEach(async () => {
    const real = process.env.CONSUL_HTTP_ADDR;
    if (real) {
      agent = /^https?:\/\//.test(real) ? real : `http://${real}`;
    } else {
      standIn = await ConsulStandIn.start();
      agent = standIn.url;
    }
    const run = `${process.pid}-${Date.now()}-${++services}`;
    prefix = `p2pm-test/${run}/claimed/`;
    serviceName = `p2pm-test-gate-${run}`;
  });
  afterEach(async () => {
    await Promise.all(directories.splice(0).map((d) => d.stop()));
    await fetch(`${agent}/v1/kv/p2pm-test/?recurse`, { method: 'DELETE' });
    await standIn?.stop();
    standIn = null;
  });

  const join = async (name: string) => {
    const self = testPeerInfo(name, PORTS);
    const directory = new ConsulDirectory({
      self,
      agent,
      advertiseAddress: '127.0.0.1',
      serviceName,
      visibleKeys: prefix,
      ...CONSUL_TIMING,
    });
    directories.push(directory);
    const log = EventLog.of(directory);
    await directory.start();
    return { id: self.id, directory, log, ids: () => directory.peers().map((p) => p.id) };
  };
  const show = (id: string) => fetch(`${agent}/v1/kv/${prefix}${id}`, { method: 'PUT', body: '' });
  const hide = (id: string) => fetch(`${agent}/v1/kv/${prefix}${id}`, { method: 'DELETE' });
  /** Until every directory has seen every registration (all three are in Consul). */
  const registered = async (count: number) =>
    expect
      .poll(async () => ((await (await fetch(`${agent}/v1/health/service/${serviceName}`)).json()) as []).length)
      .toBe(count);

  it('lists only peers with a key, and nobody while the peer itself has none; follows the keys as they change', async () => {
    const ada = await join('ada');
    const bob = await join('bob');
    const carl = await join('carl');
    await registered(3);
    await show(ada.id);
    await show(bob.id);
    await expect.poll(() => ada.ids()).toEqual([bob.id]);
    await expect.poll(() => bob.ids()).toEqual([ada.id]);
    // Carl (a spare) is registered and passing, but sees nobody and is seen by nobody.
    expect(carl.ids()).toEqual([]);
    expect(carl.log.events).toEqual([]);
    expect(ada.log.events.some((e) => e.peer.id === carl.id)).toBe(false);

    await show(carl.id);
    await expect.poll(() => carl.ids().sort()).toEqual([ada.id, bob.id].sort());
    await expect.poll(() => ada.ids().sort()).toEqual([bob.id, carl.id].sort());

    // Bob's key goes (released): the others lose him, and he sees nobody.
    await hide(bob.id);
    const lost = await ada.log.waitFor((e) => e.event === 'lost' && e.peer.id === bob.id, 5_000);
    expect(lost.reason).toBe('removed');
    await expect.poll(() => bob.ids()).toEqual([]);
    await expect.poll(() => carl.ids()).toEqual([ada.id]);
  });
});
