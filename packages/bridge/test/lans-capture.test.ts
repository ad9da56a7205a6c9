import { afterEach, describe, expect, it } from 'vitest';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { sendAndReceive, summaryOf, until, untilOnline } from './helpers/lan-peers.js';
import { PacketCapture } from './helpers/packet-capture.js';

/** A TLS 1.2+ application-data record header (TLS 1.3 sends everything encrypted as such). */
const TLS_APPLICATION_DATA = Buffer.from([0x17, 0x03, 0x03]);

function encodings(text: string): Buffer[] {
  const utf16be = Buffer.from(text, 'utf16le').swap16();
  return [Buffer.from(text, 'utf8'), Buffer.from(text, 'utf16le'), utf16be];
}

describe('what a bridge host carries', () => {
  const bridgedLans = bridgedLansPerTest();
  const captures: PacketCapture[] = [];
  afterEach(async () => {
    await Promise.all(captures.splice(0).map((c) => c.discard()));
  });

  it('a capture on both bridge hosts holds the relayed TLS session and no plaintext of the messages', async () => {
    const lans = await bridgedLans({ lans: 2 });
    const hosts = lans.lans.map((l) => l.bridgeHost);
    // Capturing before the peers exist: the whole session is in the files, handshake included.
    for (const host of hosts) captures.push(await PacketCapture.start(lans.lab, host));
    // Names as distinctive as the messages: announced in the clear, they show that the search finds
    // plaintext where there is some.
    const [ada, bob] = await Promise.all([lans.startPeer(0, 'ada-of-lan-a'), lans.startPeer(1, 'bob-of-lan-b')]);
    await untilOnline(ada.peer, bob.peer);
    await untilOnline(bob.peer, ada.peer);

    const secret = 'Zebra-7 crosses the river at dawn with the violet umbrella';
    const reply = 'Understood: violet umbrella, river crossing, dawn (Zebra-7)';
    await sendAndReceive(ada.peer, bob.peer, secret);
    await sendAndReceive(bob.peer, ada.peer, reply);
    const bridged = await until(
      'the session through the bridge',
      () => summaryOf(ada.peer, bob.peer.id),
      (s) => s?.path?.kind === 'bridge',
    );
    expect(bridged?.path).toEqual({ kind: 'bridge', bridgeId: lans.lanOf(0).bridgeId });
    const relayed = await lans.bridge(0).metrics();
    expect(relayed.count('p2pm_bridge_relayed_bytes_total{direction="to_target"}')).toBeGreaterThan(0);
    expect(relayed.count('p2pm_bridge_relayed_bytes_total{direction="from_target"}')).toBeGreaterThan(0);

    for (const [index, capture] of captures.entries()) {
      const pcap = await capture.stop();
      // Traffic went through: the peers' TLS, its ClientHello naming the target by SNI (the one
      // thing the relay reads), encrypted records after it.
      expect(pcap.length, `capture ${index}: ${capture.summary}`).toBeGreaterThan(10_000);
      expect(pcap.includes(TLS_APPLICATION_DATA)).toBe(true);
      if (index === 0) expect(pcap.includes(Buffer.from(bob.peer.id))).toBe(true);
      expect(pcap.includes(Buffer.from(index === 0 ? 'ada-of-lan-a' : 'bob-of-lan-b'))).toBe(true);
      for (const text of [secret, reply, 'violet umbrella', 'Zebra-7']) {
        for (const bytes of encodings(text)) {
          expect(pcap.includes(bytes), `capture ${index} holds "${text}" (${bytes.length} bytes)`).toBe(false);
        }
      }
    }
  }, 120_000);
});
