import type { Peer } from '../peer.js';
import { safe } from './chat-format.js';

/** Who this peer is, for people: the first thing the chat prints, and /whoami. */
export function banner(peer: Peer): string[] {
  const o = peer.options;
  return [
    `peer ${safe(o.name)}`,
    `  id           ${peer.id}`,
    `  fingerprint  ${peer.fingerprint}`,
    `  listening on ${o.listenHost ?? '0.0.0.0'}: greeting port ${peer.greetingPort}, secure port ${peer.securePort}`,
  ];
}

/** Who this peer is, for programs: the one JSON line a daemon prints when it is ready. */
export function readyLine(peer: Peer): string {
  return `${JSON.stringify({
    name: peer.options.name,
    id: peer.id,
    fingerprint: peer.fingerprint,
    greetingPort: peer.greetingPort,
    securePort: peer.securePort,
  })}\n`;
}
