import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=([\w.%-]+)$/;

describe('the dispatcher with its catalog in Consul', () => {
  const dispatchers = new TestDispatchers();
  let consul: ConsulStandIn;
  beforeEach(async () => {
    consul = await ConsulStandIn.start();
  });
  afterEach(async () => {
    await dispatchers.cleanup();
    await consul.stop();
  });

  it('keeps its pool and who owns which peer in Consul KV, and hands each guest their own peer', async () => {
    const flags = ['--catalog', 'consul', '--consul', consul.address, '--pool-name', 'eu-1', '--pool', '2'];
    const dataDir = await dispatchers.dataDir();
    const d = await dispatchers.start(flags, dataDir);
    await vacantPeers(d, 2);
    expect(consul.kv('p2p-messenger/pools/eu-1/peers/')).toHaveLength(2);

    const web = new WebClient(d.url);
    const login = await web.post('/guest', { _csrf: await web.csrf() });
    const [, peerId] = TICKET_PATH.exec(login.headers.get('location') ?? '') ?? [];
    expect(peerId).toBeDefined();
    const owners = consul.kv('p2p-messenger/pools/eu-1/owners/');
    expect(owners.map((o) => o.value)).toEqual([peerId]);
    // The ticket opens the peer, through the dispatcher's proxy.
    const opened = await web.get(login.headers.get('location') ?? '');
    expect(opened.status).toBeLessThan(400);

    // Restarted, the dispatcher finds the same assignment in Consul: the guest goes back to their peer.
    await d.close();
    const again = await dispatchers.start(flags, dataDir);
    await vacantPeers(again, 1);
    const back = new WebClient(again.url);
    for (const [name, cookie] of web.cookies) back.cookies.set(name, cookie);
    // While the peer comes back the way in is the progress page; then a ticket to the same peer.
    await expect
      .poll(async () => TICKET_PATH.exec((await back.get('/go')).headers.get('location') ?? '')?.[1], {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(peerId);
  });
});
