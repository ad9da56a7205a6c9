import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { loadOrCreateIdentity, signIdentityRecord } from '@p2p-messenger/peer';
import { type GreetRequest, type GreetResponse, type PeerIdentity, PROTOCOL_VERSION } from '@p2p-messenger/proto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadBridgeIdentity } from '../../src/federation/bridge-identity.js';
import { Federation } from '../../src/federation/federation.js';
import type { JoinTarget } from '../../src/federation/link-dialer.js';
import { InProcessNetwork } from '../../src/local/in-process-network.js';
import { NoRouteError, type RelayEgress, RelayRefusedError } from '../../src/relay-seam.js';

export const quietLog = pino({ level: process.env.BRIDGE_TEST_LOG ?? 'silent' });

/** Temp dirs, servers and bridges a test made, removed in reverse order. */
export class Resources {
  readonly #cleanups: Array<() => Promise<void>> = [];

  defer(cleanup: () => Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `p2pm-${prefix}-`));
    this.defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async release(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) await cleanup();
    this.#cleanups.length = 0;
  }
}

/** A real peer identity (key pair, certificate) and its signed record. */
export async function makePeer(resources: Resources, name: string, issuedAtMs?: number): Promise<PeerIdentity> {
  const identity = await loadOrCreateIdentity(await resources.tempDir(`peer-${name}`));
  return signIdentityRecord(identity, {
    name,
    addresses: ['127.0.0.1'],
    greetingPort: 7401,
    securePort: 7402,
    protocolVersion: PROTOCOL_VERSION,
    issuedAtMs,
  });
}

/**
 * The network side of a bridge, as a test stands it in: answers greetings and identifies
 * with the local peers' own records, and connects relays to an echo server on loopback
 * that prefixes what it returns with the target's id (so a test sees where bytes went).
 */
export class EchoEgress implements RelayEgress {
  readonly network: InProcessNetwork;
  readonly greetings: GreetRequest[] = [];
  readonly connections: Array<{ targetId: string; fromBridgeId: string }> = [];
  /** Set: every request is refused as over the limits, as a loaded relay side would. */
  refusing = false;
  #port = 0;
  readonly #sockets = new Set<Socket>();

  constructor(network: InProcessNetwork) {
    this.network = network;
  }

  async start(resources: Resources): Promise<void> {
    const server = createServer((socket) => {
      // Relays torn down at the end of a test reset these connections.
      socket.on('error', () => {});
      socket.once('data', (first) => {
        const targetId = first.toString('utf8', 0, 32);
        socket.write(`${targetId}:`);
        socket.write(first.subarray(32));
        socket.pipe(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#port = (server.address() as { port: number }).port;
    resources.defer(async () => {
      for (const socket of this.#sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  }

  #record(targetId: string): PeerIdentity {
    if (this.refusing)
      throw new RelayRefusedError(grpc.status.RESOURCE_EXHAUSTED, `relay limit reached for ${targetId}`);
    const record = this.network.peers().find((peer) => peer.id === targetId);
    if (!record) throw new NoRouteError(targetId, `no local peer ${targetId}`);
    return record;
  }

  async greet(targetId: string, request: GreetRequest): Promise<GreetResponse> {
    this.greetings.push(request);
    return { identity: this.#record(targetId), knownPeers: [], observedAddress: '' };
  }

  async identify(targetId: string): Promise<PeerIdentity> {
    return this.#record(targetId);
  }

  async connect(targetId: string, fromBridgeId: string): Promise<Duplex> {
    this.#record(targetId);
    this.connections.push({ targetId, fromBridgeId });
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(this.#port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.write(targetId);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    return socket;
  }
}

export interface TestBridge {
  readonly name: string;
  readonly id: string;
  readonly dataDir: string;
  readonly network: InProcessNetwork;
  readonly egress: EchoEgress;
  readonly registry: Registry;
  federation: Federation;
  /** host:port of its federation listener (after start, when listening). */
  target(): JoinTarget;
}

export interface BridgeSpec {
  keepalive?: { timeMs: number; timeoutMs: number };
  listen?: boolean;
  port?: number;
  trust?: string[];
  join?: JoinTarget[];
}

/** A bridge's identity made ahead of its start, so that others can trust and join it. */
export async function prepareBridge(resources: Resources, name: string): Promise<TestBridge> {
  const dataDir = await resources.tempDir(`bridge-${name}`);
  const { id } = await loadBridgeIdentity(dataDir, name);
  const network = new InProcessNetwork();
  const egress = new EchoEgress(network);
  await egress.start(resources);
  const bridge: TestBridge = {
    name,
    id,
    dataDir,
    network,
    egress,
    registry: new Registry(),
    federation: null as unknown as Federation,
    target: () => ({ bridgeId: id, host: '127.0.0.1', port: bridge.federation.port }),
  };
  return bridge;
}

/** Starts (or starts again, same identity and network) a prepared bridge. */
export async function startBridge(resources: Resources, bridge: TestBridge, spec: BridgeSpec): Promise<Federation> {
  const federation = new Federation({
    dataDir: bridge.dataDir,
    name: bridge.name,
    listen: spec.listen === false ? undefined : { host: '127.0.0.1', port: spec.port ?? 0 },
    trust: spec.trust,
    join: spec.join,
    localNetwork: bridge.network,
    egress: bridge.egress,
    log: quietLog.child({ bridge: bridge.name }),
    registry: bridge.registry,
    backoff: { minDelayMs: 50, maxDelayMs: 400 },
    handshakeTimeoutMs: 3_000,
    keepalive: spec.keepalive,
  });
  bridge.federation = federation;
  resources.defer(() => federation.stop());
  await federation.start();
  return federation;
}

/** Remote peers a bridge reaches, as `name/hops/next-hop bridge name`, sorted. */
export function routesOf(bridge: TestBridge, bridges: TestBridge[]): string[] {
  const nameOf = (id: string) => bridges.find((other) => other.id === id)?.name ?? id;
  return bridge.federation
    .remotePeers()
    .map((route) => `${route.name}/${route.hops}/${nameOf(route.nextHop)}`)
    .sort();
}

/** Names of the peers the bridge asked its local network to advertise, sorted. */
export function advertisedNames(bridge: TestBridge): string[] {
  return bridge.network
    .advertised()
    .map((route) => route.name)
    .sort();
}

/**
 * Reads from a stream until `expected` bytes have arrived. The stream keeps an error listener
 * afterwards: a relay torn down at the end of a test (its bridge stopping) fails it.
 */
export function readBytes(stream: Duplex, expected: number): Promise<Buffer> {
  if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= expected) {
        stream.off('data', onData);
        stream.off('error', reject);
        stream.pause();
        resolve(Buffer.concat(chunks));
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.resume();
  });
}

/** The value of a counter with the given labels in a registry. */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return match?.value ?? 0;
}

/**
 * A TCP forwarder on loopback between a dialer and a listener: cut() resets every
 * connection through it and stops accepting (the network between two bridges gone),
 * restore() accepts again on the same port.
 */
export class LinkCable {
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #frozen = false;
  port = 0;

  constructor(targetPort: number) {
    this.#targetPort = targetPort;
  }

  static async lay(resources: Resources, targetPort: number): Promise<LinkCable> {
    const cable = new LinkCable(targetPort);
    await cable.restore();
    resources.defer(() => cable.cut());
    return cable;
  }

  async restore(): Promise<void> {
    this.#frozen = false;
    const server = createServer((inbound) => {
      const outbound = connect(this.#targetPort, '127.0.0.1');
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.once('close', () => this.#sockets.delete(socket));
      }
      // Byte by byte on purpose: freeze() drops what crosses, as a dead network would.
      inbound.on('data', (data) => this.#frozen || outbound.write(data));
      outbound.on('data', (data) => this.#frozen || inbound.write(data));
      inbound.once('close', () => outbound.destroy());
      outbound.once('close', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** The connections stay open but nothing crosses any more (no FIN, no RST): silence. */
  freeze(): void {
    this.#frozen = true;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
