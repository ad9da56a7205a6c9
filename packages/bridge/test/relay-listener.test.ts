import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type LocalIdentity, loadOrCreateIdentity } from '@p2p-messenger/peer';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerRelayMetrics } from '../src/ops/relay-metrics.js';
import { LocalEgress } from '../src/relay/local-egress.js';
import { RelayLimits, type RelayLimitsInit } from '../src/relay/relay-limits.js';
import { RelayListener, type RelayListenerInit } from '../src/relay/relay-listener.js';
import { RelayStats } from '../src/relay/relay-stats.js';
import { fromEgress } from '../src/relay/relay-targets.js';

const log = pino({ level: 'silent' });
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TLS server with a peer's identity certificate, standing for the target peer's secure port. */
async function targetPeer(onSocket: (socket: TLSSocket) => void) {
  const dir = await mkdtemp(join(tmpdir(), 'relay-target-'));
  const identity: LocalIdentity = await loadOrCreateIdentity(dir);
  const sockets = new Set<TLSSocket>();
  const server: Server = createTlsServer(
    { key: identity.privateKeyPem, cert: identity.certificatePem, minVersion: 'TLSv1.3', allowHalfOpen: true },
    (socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
      onSocket(socket);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return { id: identity.id, port: (server.address() as { port: number }).port, sockets };
}

/** A relay listener whose egress reaches the given targets on loopback; every relayed byte is captured. */
async function relayFor(
  targets: { id: string; port: number }[],
  init: RelayListenerInit = {},
  limits: RelayLimitsInit = {},
) {
  const stats = new RelayStats();
  const captured: Buffer[] = [];
  const ports = new Map(targets.map((t) => [t.id, t.port]));
  const egress = new LocalEgress({
    bridgeId: 'bridge',
    locate: (id) =>
      ports.has(id) ? { hosts: ['127.0.0.1'], greetingPort: 1, securePort: ports.get(id) as number } : null,
    limits: new RelayLimits(),
    stats,
    log,
  });
  const listener = new RelayListener(
    {
      targets: fromEgress(egress, (id) => ports.has(id), 'bridge'),
      limits: new RelayLimits(limits),
      stats,
      log,
      tap: (_direction, chunk) => captured.push(Buffer.from(chunk)),
    },
    { host: '127.0.0.1', ...init },
  );
  await listener.start();
  cleanups.push(() => listener.stop());
  return { listener, stats, captured };
}

/** A TLS client naming `servername`, through the relay; resolves once the handshake with the target is done. */
async function clientThrough(port: number, servername: string): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  cleanups.push(() => void socket.destroy());
  await Promise.race([
    once(socket, 'secureConnect'),
    once(socket, 'close').then(() => Promise.reject(new Error('closed before the TLS handshake'))),
  ]);
  return socket;
}

/** Whether a client naming `servername` gets a TLS session through the relay, or is cut off. */
async function refused(port: number, servername: string): Promise<boolean> {
  return clientThrough(port, servername).then(
    () => false,
    () => true,
  );
}

describe('RelayListener', () => {
  it('moves a TLS session to the peer its SNI names, bytes unchanged both ways, and cannot read them', async () => {
    const target = await targetPeer((socket) => socket.pipe(socket));
    const { listener, stats, captured } = await relayFor([target]);
    const client = await clientThrough(listener.port, target.id);
    // The session is with the target itself: its certificate, not anything of the bridge.
    expect(client.getPeerX509Certificate()?.toString()).toContain('BEGIN CERTIFICATE');
    client.write('a secret for the echo');
    const [echo] = (await once(client, 'data')) as [Buffer];
    expect(echo.toString()).toBe('a secret for the echo');
    const moved = Buffer.concat(captured);
    expect(moved.includes(Buffer.from('a secret'))).toBe(false);
    expect(moved[0]).toBe(0x16);
    const snapshot = stats.snapshot();
    expect(snapshot.connections).toBe(1);
    expect(snapshot.active).toBe(1);
    expect(snapshot.bytesFromTarget).toBeGreaterThan(0);
  });

  it('refuses a target it does not advertise, a bad hello and a target it cannot reach, counting each reason', async () => {
    const target = await targetPeer((socket) => socket.pipe(socket));
    const gone = { id: 'gone', port: 1 };
    const { listener, stats, captured } = await relayFor([target, gone]);
    const registry = new Registry();
    registerRelayMetrics(registry, () => stats);
    expect(await refused(listener.port, 'someoneelse')).toBe(true);
    expect(await refused(listener.port, gone.id)).toBe(true);
    const garbage = new Socket();
    cleanups.push(() => void garbage.destroy());
    garbage.connect(listener.port, '127.0.0.1');
    garbage.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    garbage.resume();
    await once(garbage, 'close');
    expect(stats.snapshot().refusals).toEqual({ 'not-advertised': 1, unreachable: 1, 'bad-hello': 1 });
    const metrics = await registry.metrics();
    expect(metrics).toContain('p2pm_bridge_relay_refusals_total{reason="not-advertised"} 1');
    expect(metrics).toContain('p2pm_bridge_relay_refusals_total{reason="bad-hello"} 1');
    expect(metrics).toContain('p2pm_bridge_relayed_connections_total 0');
    expect(captured).toEqual([]);
    expect(target.sockets.size).toBe(0);
  });

  it('keeps to its limits per target, per source address and in total, and frees a slot when a relay closes', async () => {
    const a = await targetPeer((socket) => socket.pipe(socket));
    const b = await targetPeer((socket) => socket.pipe(socket));
    const c = await targetPeer((socket) => socket.pipe(socket));
    const perTarget = await relayFor([a, b], {}, { maxPerTarget: 1 });
    const first = await clientThrough(perTarget.listener.port, a.id);
    expect(await refused(perTarget.listener.port, a.id)).toBe(true);
    await clientThrough(perTarget.listener.port, b.id);
    first.end();
    await until('the first relay closed', () => perTarget.stats.active === 1);
    await clientThrough(perTarget.listener.port, a.id);
    expect(perTarget.stats.snapshot().refusals).toEqual({ 'limit-target': 1 });

    const perSource = await relayFor([a, b], {}, { maxPerSource: 1 });
    await clientThrough(perSource.listener.port, a.id);
    expect(await refused(perSource.listener.port, b.id)).toBe(true);
    expect(perSource.stats.snapshot().refusals).toEqual({ 'limit-source': 1 });

    const total = await relayFor([a, b, c], {}, { maxTotal: 2 });
    await clientThrough(total.listener.port, a.id);
    await clientThrough(total.listener.port, b.id);
    expect(await refused(total.listener.port, c.id)).toBe(true);
    expect(total.stats.snapshot().refusals).toEqual({ 'limit-total': 1 });
  });

  it('closes a relay idle both ways, on both sides, and passes an end each way', async () => {
    const ended: string[] = [];
    const target = await targetPeer((socket) => {
      socket.on('data', () => {});
      socket.once('end', () => {
        ended.push('target saw the end');
        socket.end('bye from the target');
      });
    });
    const { listener, stats } = await relayFor([target], { idleTimeoutMs: 300 });
    const client = await clientThrough(listener.port, target.id);
    let reply = '';
    client.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
    });
    client.end();
    await once(client, 'close');
    expect(ended).toEqual(['target saw the end']);
    expect(reply).toBe('bye from the target');
    await until('no relay left', () => stats.active === 0 && target.sockets.size === 0);

    // Silence: the relay goes after the idle timeout, and the target's connection with it.
    const idle = await clientThrough(listener.port, target.id);
    const started = Date.now();
    await once(idle, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await until('the target side closed too', () => target.sockets.size === 0 && stats.active === 0);
  });

  it('slows a fast sender to a slow receiver (back-pressure end to end) and loses nothing', async () => {
    let receiver: TLSSocket | null = null;
    const received = createHash('sha256');
    let receivedBytes = 0;
    const target = await targetPeer((socket) => {
      receiver = socket;
      socket.pause();
      socket.on('data', (chunk: Buffer) => {
        received.update(chunk);
        receivedBytes += chunk.length;
      });
      socket.pause();
    });
    const { listener, stats } = await relayFor([target]);
    const client = await clientThrough(listener.port, target.id);
    await until('the target has the connection', () => receiver !== null);

    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    const sent = createHash('sha256');
    let written = 0;
    let blocked = false;
    const writeAll = (async () => {
      while (written < total) {
        chunk.fill(written % 251);
        sent.update(chunk);
        written += chunk.length;
        if (!client.write(chunk)) {
          blocked = true;
          await once(client, 'drain');
        }
      }
    })();
    // The sender blocks, and what the relay passed on stops growing, far below what there is to send.
    await until('the sender blocks', () => blocked);
    let last = -1;
    let steadySince = Date.now();
    await until('the relay stops passing bytes on', () => {
      if (stats.bytesToTarget !== last) {
        last = stats.bytesToTarget;
        steadySince = Date.now();
      }
      return Date.now() - steadySince > 300;
    });
    expect(written).toBeLessThan(total / 4);
    expect(stats.bytesToTarget).toBeLessThan(total / 8);

    (receiver as unknown as TLSSocket).resume();
    await writeAll;
    await until('every byte arrived', () => receivedBytes === total, 60_000);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
  });
});
