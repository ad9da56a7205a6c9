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
    ...loginLinkLines(peer, me.listenHost),
  ];
}

/** Who this peer is, for programs: the one JSON line a daemon prints when it is ready. */
export function readyLine(peer: Peer): string {
  const { name, id, fingerprint, greetingPort, securePort } = peer.self();
  const web = peer.webPort === null ? {} : { webPort: peer.webPort, loginPath: peer.loginPath() };
  return `${JSON.stringify({ name, id, fingerprint, greetingPort, securePort, ...web })}\n`;
}

/** The owner's one-time way into the web server, for people, or nothing without one. */
export function loginLinkLines(peer: Peer, host: string): string[] {
  const path = peer.loginPath();
  if (peer.webPort === null || !path) return [];
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return [`  web          http://${shown.includes(':') ? `[${shown}]` : shown}:${peer.webPort}${path} (once)`];
}
