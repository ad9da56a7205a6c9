import type { PeerSummary } from '../peer.js';
import { safe, shortId } from './chat-format.js';

export type Selection = { ok: true; peer: PeerSummary } | { ok: false; problem: string };

/**
 * Finds the peer a user means by `ref`: a number from the last /peers list, a name
 * (exact, case-insensitive), an id prefix, or the start of a name, in that order.
 */
export function selectPeer(ref: string, peers: readonly PeerSummary[], listed: readonly string[]): Selection {
  const wanted = ref.trim();
  if (!wanted) return { ok: false, problem: 'which peer? give a number from /peers, a name or an id prefix' };
  if (/^\d+$/.test(wanted)) {
    const id = listed[Number(wanted) - 1];
    const peer = peers.find((p) => p.id === id);
    if (peer) return { ok: true, peer };
    if (wanted.length < 3) {
      return {
        ok: false,
        problem: `there is no peer number ${wanted}; /peers lists them with their numbers`,
      };
    }
  }
  const lower = wanted.toLowerCase();
  const rules: ((p: PeerSummary) => boolean)[] = [
    (p) => p.name.toLowerCase() === lower,
    (p) => p.id.startsWith(lower),
    (p) => p.name.toLowerCase().startsWith(lower),
  ];
  for (const rule of rules) {
    const matches = peers.filter(rule);
    if (matches.length === 1 && matches[0]) return { ok: true, peer: matches[0] };
    if (matches.length > 1) {
      const names = matches.map((p) => `${safe(p.name)} (${shortId(p.id)})`).join(', ');
      return {
        ok: false,
        problem: `"${safe(wanted)}" is ambiguous, it matches ${names}; use a number from /peers or a longer id prefix`,
      };
    }
  }
  return {
    ok: false,
    problem: `no peer matches "${safe(wanted)}"; /peers lists the peers you know, /contact host:port adds one`,
  };
}

/** Completes a command name, or a peer name after a command that takes one (for Tab). */
export function complete(line: string, commands: readonly string[], peers: readonly PeerSummary[]): [string[], string] {
  if (!line.includes(' ')) return [commands.filter((c) => c.startsWith(line)), line];
  const match = /^\/(to|msg|history|read) (\S*)$/.exec(line);
  if (!match) return [[], line];
  const partial = match[2] ?? '';
  const names = peers
    .map((p) => p.name)
    .filter((n) => !/\s/.test(n) && n.toLowerCase().startsWith(partial.toLowerCase()));
  return [[...new Set(names)], partial];
}
