import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { cleanEnv } from './cli-process.js';
import { adaAndBob, bridgedLansPerTest, exchange } from './helpers/lab-per-test.js';
import { historyOf, peersOf, pingAnswered, SETTLE_MS, summaryOf, until } from './helpers/lan-peers.js';

describe('two LANs joined by bridge processes', () => {
  const bridgedLans = bridgedLansPerTest();
  const commands: CliProcess[] = [];
  afterEach(async () => {
    await Promise.all(commands.splice(0).map((c) => c.kill()));
  });

  it('a peer in LAN A messages a peer in LAN B and back, each online via its own bridge, with no other route', async () => {
    const lans = await bridgedLans({ lans: 2 });
    const [a, b] = [lans.lanOf(0), lans.lanOf(1)];
    const { ada, bob } = await adaAndBob(lans);
    await exchange(ada, bob, 'hello bob, from LAN A', 'hello ada, from LAN B');
    // Each side's session goes through the bridge of its own LAN.
    const adaSeesBob = await until(
      'ada online with bob through bridge A',
      () => summaryOf(ada.peer, bob.peer.id),
      (s) => s?.path?.kind === 'bridge',
    );
    expect(adaSeesBob).toMatchObject({ status: 'online', path: { kind: 'bridge', bridgeId: a.bridgeId } });
    const bobSeesAda = await until(
      'bob online with ada through bridge B',
      () => summaryOf(bob.peer, ada.peer.id),
      (s) => s?.path?.kind === 'bridge',
    );
    expect(bobSeesAda).toMatchObject({ status: 'online', path: { kind: 'bridge', bridgeId: b.bridgeId } });

    // Nothing but the bridges joins the LANs: no host of one LAN answers a ping from the other.
    const { lab } = lans;
    const wan = lans.links[0];
    expect(await pingAnswered(lab, ada.host, a.bridgeHost.ipv4)).toBe(true);
    expect(await pingAnswered(lab, bob.host, b.bridgeHost.ipv4)).toBe(true);
    expect(await pingAnswered(lab, ada.host, bob.host.ipv4)).toBe(false);
    expect(await pingAnswered(lab, bob.host, ada.host.ipv4)).toBe(false);
    expect(await pingAnswered(lab, ada.host, b.bridgeHost.ipv4)).toBe(false);
    expect(await pingAnswered(lab, ada.host, wan?.listenerAddress ?? '')).toBe(false);
    expect(await pingAnswered(lab, a.bridgeHost, bob.host.ipv4)).toBe(false);
    expect(await pingAnswered(lab, b.bridgeHost, ada.host.ipv4)).toBe(false);
    // ... while the bridges reach each other over their WAN.
    expect(await pingAnswered(lab, a.bridgeHost, wan?.listenerAddress ?? '')).toBe(true);

    // The bridges say so too: one link, one peer each way, sessions relayed.
    const [metricsA, metricsB] = await Promise.all([lans.bridge(0).metrics(), lans.bridge(1).metrics()]);
    for (const metrics of [metricsA, metricsB]) {
      expect(metrics.get('p2pm_bridge_links_up')).toBe(1);
      expect(metrics.get('p2pm_bridge_local_peers')).toBe(1);
      expect(metrics.get('p2pm_bridge_remote_peers')).toBe(1);
    }
    expect(
      metricsA.count('p2pm_bridge_relayed_connections_total') + metricsB.count('p2pm_bridge_relayed_connections_total'),
    ).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('the peer command in LAN B chats with a peer in LAN A and lists it online via its bridge', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const ada = await lab.startPeer(0, 'ada');
    const host = await lab.addHost(1);
    const { intervalMs, expiryMs } = lab.multicast;
    const cyd = new CliProcess(
      'cyd',
      [
        ...['--name', 'cyd', '--data-dir', lab.dataDir('cyd'), '--multicast-family', 'ipv4'],
        ...['--announce-interval', String(intervalMs), '--peer-expiry', String(expiryMs)],
      ],
      cleanEnv(),
      { netns: host.netns },
    );
    commands.push(cyd);
    await cyd.waitFor(/^\* ada \([a-z2-7]{8}\) is online$/m, { timeoutMs: SETTLE_MS });

    cyd.type('/msg ada hello ada, from LAN B');
    await cyd.waitFor(/✓✓ delivered to ada: "hello ada, from LAN B"/);
    const cydId = (await peersOf(ada.peer)).find((p) => p.name === 'cyd')?.id ?? '';
    expect((await historyOf(ada.peer, { id: cydId })).map((m) => m.text)).toEqual(['hello ada, from LAN B']);
    await ada.peer.request({ op: 'send', peerId: cydId, text: 'hello cyd, from LAN A' });
    await cyd.waitFor(/^\[ada\] hello cyd, from LAN A$/m);

    // Its list says the session goes through the bridge of its own LAN (and that ada's reply is unread).
    const bridgeB = lab.lanOf(1).bridgeId.slice(0, 8);
    await expect
      .poll(
        async () => {
          const since = cyd.mark();
          cyd.type('/peers');
          await cyd.waitFor(/^ +1 {2}ada .*$/m, { since });
          return cyd.output().slice(since);
        },
        { timeout: 20_000, interval: 300 },
      )
      .toMatch(
        new RegExp(`^ +1 {2}ada {2}[a-z2-7]{8} {2}online via bridge ${bridgeB} {2}via multicast {2}1 unread$`, 'm'),
      );
    cyd.type('/quit');
    expect(await cyd.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
