import { connect as tlsConnect } from 'node:tls';
import { greet, identify, loadOrCreateIdentity, peerIdOfCertificate, signIdentityRecord } from '@p2p-messenger/peer';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { NamespaceTunnel } from '../src/harness/index.js';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { until, untilOnline } from './helpers/lan-peers.js';

const NOT_ADVERTISED = 'p2pm_bridge_relay_refusals_total{reason="not-advertised"}';

/** What a TLS client that names `serverName` gets from the other end: its certificate's id, or how it ended. */
function tlsOutcome(
  tunnel: NamespaceTunnel,
  serverName: string,
): Promise<{ peerId: string | null } | { ended: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ socket: tunnel.connect(), servername: serverName, rejectUnauthorized: false });
    const timer = setTimeout(() => finish({ ended: 'no answer within 10 s' }), 10_000);
    const finish = (outcome: { peerId: string | null } | { ended: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.once('secureConnect', () => finish({ peerId: peerIdOfCertificate(socket.getPeerCertificate()) }));
    socket.once('error', (err) => finish({ ended: err.message }));
    socket.once('close', () => finish({ ended: 'closed' }));
  });
}

describe('a bridge is no open relay', () => {
  const bridgedLans = bridgedLansPerTest();
  const tunnels: NamespaceTunnel[] = [];
  afterEach(async () => {
    await Promise.all(tunnels.splice(0).map((t) => t.close()));
  });

  it('a TLS session, a greeting or an Identify for a peer it does not advertise is refused and counted', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const [ada, bob] = await Promise.all([lab.startPeer(0, 'ada'), lab.startPeer(1, 'bob')]);
    await untilOnline(ada.peer, bob.peer);
    const bridge = lab.bridge(0);
    const bridgeHost = lab.lanOf(0).bridgeHost;
    await until(
      'bob advertised on LAN A',
      () => bridge.metrics(),
      (m) => m.get('p2pm_bridge_remote_peers') === 1,
    );

    // A host on LAN A that speaks to the bridge's relay ports by hand.
    const caller = await lab.addHost(0);
    const { greetingPort, securePort } = bridge.relayPorts;
    const relay = await NamespaceTunnel.open(lab.lab, caller, securePort, bridgeHost.ipv4);
    const greeting = await NamespaceTunnel.open(lab.lab, caller, greetingPort, bridgeHost.ipv4);
    tunnels.push(relay, greeting);
    const refusals = async () => (await bridge.metrics()).count(NOT_ADVERTISED);
    const before = await refusals();

    // Bob is advertised: the relay carries a TLS session to him, and his own certificate comes back.
    expect(await tlsOutcome(relay, bob.peer.id)).toEqual({ peerId: bob.peer.id });
    expect(await refusals()).toBe(before);

    // An id nobody has, and ada's own (a peer of this LAN: nothing to relay her to) are not.
    const nobody = 'abcdefghijklmnopqrstuvwxyz234567';
    const unadvertised = [nobody, ada.peer.id];
    for (const [index, name] of unadvertised.entries()) {
      const outcome = await tlsOutcome(relay, name);
      expect(outcome, `TLS naming ${name}`).not.toHaveProperty('peerId');
      await until(`the refusal of ${name} counted`, refusals, (count) => count === before + index + 1);
    }

    // The same for a greeting and an Identify naming such a target.
    const identity = await loadOrCreateIdentity(lab.dataDir('caller'));
    const record = signIdentityRecord(identity, {
      name: 'caller',
      addresses: [],
      greetingPort: 0,
      securePort: 0,
      protocolVersion: PROTOCOL_VERSION,
    });
    const target = `unix:${greeting.socketPath}`;
    const request = { identity: record, knownPeers: [], targetId: nobody, viaBridgeId: '' };
    await expect(greet(target, request, nobody, { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 5, // NOT_FOUND
      details: `this bridge relays to no peer ${nobody}`,
    });
    await expect(identify(target, ada.peer.id, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 5 });
    expect(await refusals()).toBe(before + unadvertised.length + 2);

    // Each refusal is in the bridge's log, with the target it named.
    const logged = bridge.logRecords().filter((r) => r.reason === 'not-advertised');
    expect(logged.map((r) => [r.msg, r.targetId])).toEqual([
      ['relay refused', nobody],
      ['relay refused', ada.peer.id],
      ['greeting refused', nobody],
      ['greeting refused', ada.peer.id],
    ]);
    // And the bridge still relays what it advertises.
    expect((await bridge.metrics()).count('p2pm_bridge_relayed_connections_total')).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
