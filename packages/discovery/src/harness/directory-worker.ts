/**
 * A multicast directory alone in a process (for tests and benchmarks in network namespaces):
 * reports its events to the parent over IPC and answers requests.
 */
import { createSocket } from 'node:dgram';
import { type Announcement, AnnouncementKind, PROTOCOL_VERSION, type RelayedPeer } from '@p2p-messenger/proto';
import { encodeAnnouncement } from '../multicast/announcement-codec.js';
import { MulticastDirectory } from '../multicast/multicast-directory.js';
import { DatagramRecorder } from './datagram-recorder.js';
import type {
  DirectoryWorkerConfig,
  DirectoryWorkerMessage,
  DirectoryWorkerRequest,
  Forgery,
} from './directory-protocol.js';
import { KeyInIdSigner } from './key-in-id-signer.js';

const config = JSON.parse(process.argv[2] ?? '{}') as DirectoryWorkerConfig;
const signer = new KeyInIdSigner();
const recorder = new DatagramRecorder();
let relayed: RelayedPeer[] = [];
const directory: MulticastDirectory = new MulticastDirectory({
  self: {
    id: signer.id,
    name: config.name,
    greetingPort: config.greetingPort,
    securePort: config.securePort,
    protocolVersion: PROTOCOL_VERSION,
    fingerprint: '',
    knownPeerIds: (): string[] => directory.peers().map((peer) => peer.id),
  },
  signer,
  ...(config.families ? { families: config.families } : {}),
  ...(config.port ? { port: config.port } : {}),
  ...(config.intervalMs ? { intervalMs: config.intervalMs } : {}),
  ...(config.expiryMs ? { expiryMs: config.expiryMs } : {}),
  ...(config.interfaces ? { interfaces: config.interfaces } : {}),
  ...(config.relay ? { relay: { relayedPeers: () => relayed } } : {}),
});

function tell(message: DirectoryWorkerMessage): void {
  process.send?.(message);
}

directory.on('found', (peer) => tell({ type: 'event', event: 'found', peer, atMs: Date.now() }));
directory.on('updated', (peer) => tell({ type: 'event', event: 'updated', peer, atMs: Date.now() }));
directory.on('lost', (peer, reason) => tell({ type: 'event', event: 'lost', peer, reason, atMs: Date.now() }));

async function sendTo(bytes: Buffer, family: 'ipv4' | 'ipv6', group: string, port: number): Promise<void> {
  const socket = createSocket(family === 'ipv4' ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) => socket.send(bytes, port, group, (e) => (e ? reject(e) : resolve())));
  } finally {
    socket.close();
  }
}

async function handle(request: DirectoryWorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'peers':
      return directory.peers();
    case 'stats':
      return directory.stats();
    case 'selfAddresses':
      return directory.selfAddresses();
    case 'sendRaw':
      return sendTo(Buffer.from(request.bytesBase64, 'base64'), request.family, request.group, request.port);
    case 'forge':
      return sendTo(forged(request), request.family, request.group, request.port);
    case 'setRelayed':
      relayed = request.peers;
      directory.relayedChanged();
      return undefined;
    case 'record':
      return recorder.start(request.family, request.group, request.port);
    case 'recorded':
      return recorder.datagrams.map((datagram) => datagram.toString('base64'));
    case 'stop':
      recorder.close();
      await directory.stop();
      setImmediate(() => process.exit(0));
      return undefined;
  }
}

/** A hello (or a bridge's list) for another id, signed with this worker's key. */
function forged(forgery: Forgery): Buffer {
  const carried = forgery.carriedKey ?? 'none';
  const announcement: Announcement = {
    kind: forgery.relayedPeers ? AnnouncementKind.KIND_RELAYED : AnnouncementKind.KIND_HELLO,
    peerId: forgery.claimedId,
    name: 'impostor',
    greetingPort: config.greetingPort,
    securePort: config.securePort,
    protocolVersion: PROTOCOL_VERSION,
    issuedAtMs: Date.now() + 60_000,
    knownPeerIds: [],
    wantsReply: false,
    signingKey:
      carried === 'none'
        ? Buffer.alloc(0)
        : carried === 'own'
          ? signer.signingKey
          : Buffer.from(carried.base64, 'base64'),
    relayedPeers: forgery.relayedPeers ?? [],
  };
  return encodeAnnouncement(announcement, (d) => signer.sign(d));
}

process.on('message', (message: { seq: number; request: DirectoryWorkerRequest }) => {
  handle(message.request).then(
    (value) => tell({ type: 'reply', seq: message.seq, value }),
    (err: unknown) => tell({ type: 'reply', seq: message.seq, error: (err as Error).message }),
  );
});
process.on('disconnect', () => process.exit(0));

directory.start().then(
  () => tell({ type: 'ready', id: signer.id }),
  (err: unknown) => {
    process.stderr.write(`directory worker failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
