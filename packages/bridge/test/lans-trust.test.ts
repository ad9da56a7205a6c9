import type { LabHost } from '@p2p-messenger/discovery/lab';
import { describe, expect, it } from 'vitest';
import { loadBridgeIdentity } from '../src/federation/bridge-identity.js';
import { type BridgedLans, type BridgeProcess, FEDERATION_PORT, ImpostorProcess } from '../src/harness/index.js';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { until } from './helpers/lan-peers.js';

const UNTRUSTED = 'p2pm_bridge_federation_refusals_total{reason="untrusted-bridge"}';

/** The log records of a bridge with this message. */
function said(bridge: BridgeProcess, msg: string): Record<string, unknown>[] {
  return bridge.logRecords().filter((r) => r.msg === msg);
}

/**
 * Starts a bridge (data in the lab's "dialer" dir) in `host` that joins `bridgeId` at
 * `address`, and waits until it has given up on that link twice; returns the failures logged.
 */
async function dialUntilRefused(lab: BridgedLans, host: LabHost, bridgeId: string, address: string) {
  const dialer = await lab.startBridgeIn(host, {
    dataDir: lab.dataDir('dialer'),
    name: 'dialer',
    join: [`${bridgeId}@${address}:${FEDERATION_PORT}`],
    lan: { interfaces: ['eth0'], ...lab.multicast },
  });
  const failures = await until(
    'the dialer to refuse the other end twice',
    () => said(dialer, 'link failed'),
    (records) => records.length >= 2,
  );
  return { dialer, failures };
}

describe('bridges that are not who they should be', () => {
  const bridgedLans = bridgedLansPerTest();

  it('a bridge not in --trust is refused, counted and logged, and its link never comes up', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const link = lab.links[0];
    if (!link) throw new Error('two LANs have a link');
    const listener = lab.bridge(link.listener);
    await until(
      'the trusted link up',
      () => listener.metrics(),
      (m) => m.get('p2pm_bridge_links_up') === 1,
    );

    // A stranger on the WAN dials the listening bridge, which was never told of it.
    const strangerHost = await lab.lab.addHost(link.wan);
    const stranger = await lab.startBridgeIn(strangerHost, {
      dataDir: lab.dataDir('stranger'),
      name: 'stranger',
      join: [`${listener.id}@${link.listenerAddress}:${FEDERATION_PORT}`],
      lan: { interfaces: ['eth0'], ...lab.multicast },
    });
    // Refused again at each retry: the stranger is never let in.
    const refused = await until(
      'the stranger refused twice',
      () => listener.metrics(),
      (m) => m.count(UNTRUSTED) >= 2,
    );
    expect(refused.get('p2pm_bridge_links_up')).toBe(1);
    const logged = said(listener, 'federation call refused').filter((r) => r.bridgeId === stranger.id);
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged[0]).toMatchObject({ reason: 'untrusted-bridge', level: 40 });

    const strangerMetrics = await stranger.metrics();
    expect(strangerMetrics.get('p2pm_bridge_links_up')).toBe(0);
    expect(strangerMetrics.get('p2pm_bridge_remote_peers')).toBe(0);
    const notReady = await stranger.opsGet('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain(listener.id);
    const failures = said(stranger, 'link failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(failures[0])).toContain('is not trusted here');
  }, 120_000);

  it('an impostor at the address of a bridge, with its id but another key, is refused by the dialer', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const link = lab.links[0];
    if (!link) throw new Error('two LANs have a link');
    const real = lab.bridge(link.listener);

    // A new bridge dials the listening bridge's id at an address where another bridge listens,
    // one that would even let it in: the id it expects is what it checks.
    const [impostorHost, dialerHost] = [await lab.lab.addHost(link.wan), await lab.lab.addHost(link.wan)];
    const dialerId = (await loadBridgeIdentity(lab.dataDir('dialer'), 'dialer')).id;
    const impostor = await lab.startBridgeIn(impostorHost, {
      dataDir: lab.dataDir('impostor'),
      name: 'impostor',
      listen: `0.0.0.0:${FEDERATION_PORT}`,
      trust: [dialerId],
      lan: { interfaces: ['eth0'], ...lab.multicast },
    });
    expect(impostor.id).not.toBe(real.id);
    const { dialer, failures } = await dialUntilRefused(lab, dialerHost, real.id, impostorHost.ipv4);
    for (const failure of failures) {
      expect(failure).toMatchObject({ bridgeId: real.id, address: `${impostorHost.ipv4}:${FEDERATION_PORT}` });
      expect((failure.err as { type?: string }).type).toBe('BridgeIdentityError');
      expect((failure.err as { message?: string }).message).toContain(`is not bridge ${real.id}`);
    }
    // No link on either side: the dialer went no further than asking who it was talking to.
    expect((await dialer.metrics()).get('p2pm_bridge_links_up')).toBe(0);
    expect((await dialer.opsGet('/readyz')).status).toBe(503);
    const impostorMetrics = await impostor.metrics();
    expect(impostorMetrics.get('p2pm_bridge_links_up')).toBe(0);
    expect(impostorMetrics.count(UNTRUSTED)).toBe(0);
  }, 120_000);

  it("an impostor that replays a bridge's genuine record without its key gets past Identify, not past the pinned channel", async () => {
    const lab = await bridgedLans({ lans: 2 });
    const link = lab.links[0];
    if (!link) throw new Error('two LANs have a link');
    const realLan = lab.lanOf(link.listener);
    // The real bridge's record, as its Identify gives it to anyone who asks.
    const genuine = (await loadBridgeIdentity(realLan.dataDir, 'ignored')).record(FEDERATION_PORT);
    expect(genuine.id).toBe(realLan.bridgeId);

    const [impostorHost, dialerHost] = [await lab.lab.addHost(link.wan), await lab.lab.addHost(link.wan)];
    const impostor = await ImpostorProcess.start(lab.lab, impostorHost, {
      dataDir: lab.dataDir('impostor'),
      port: FEDERATION_PORT,
      record: genuine,
    });
    const { dialer, failures } = await dialUntilRefused(lab, dialerHost, realLan.bridgeId, impostorHost.ipv4);
    for (const failure of failures) {
      expect(failure).toMatchObject({ bridgeId: realLan.bridgeId });
      // The record checked out; the TLS session pinned to its certificate did not.
      expect((failure.err as { type?: string }).type).not.toBe('BridgeIdentityError');
      expect((failure.err as { message?: string }).message).toMatch(/UNAVAILABLE.*certificate/);
    }
    expect(impostor.linkCalls).toBe(0);
    expect((await dialer.metrics()).get('p2pm_bridge_links_up')).toBe(0);
    expect((await dialer.opsGet('/readyz')).status).toBe(503);
  }, 120_000);
});
