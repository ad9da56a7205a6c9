import type { Peer } from '../peer.js';
import { safe } from './chat-format.js';

/** Who this peer is, for people: the first thing the chat prints, and /whoami. */
export function banner(peer: Peer): string[] {
  const me = peer.self();
  return [
    `peer ${safe(me.name)}`,
    `  id           ${me.id}`,
    `  fingerprint  ${me.fingerprint}`,
    `  listening on ${me.listenHost}: greeting port ${me.greetingPort}, secure port ${me.securePort}`,
  ];
}

/** Who this peer is, for programs: the one JSON line a daemon prints when it is ready. */
export function readyLine(peer: Peer): string {
  const { name, id, fingerprint, greetingPort, securePort } = peer.self();
  return `${JSON.stringify({ name, id, fingerprint, greetingPort, securePort })}\n`;
}
