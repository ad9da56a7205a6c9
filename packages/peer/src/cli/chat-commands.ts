import * as grpc from '@grpc/grpc-js';
import type { Peer, PeerSummary } from '../peer.js';
import { historyLine, peerLine, safe, shortId, sortPeers } from './chat-format.js';
import { selectPeer } from './peer-select.js';
import { banner } from './summary.js';

/** What commands may use of the running chat. */
export interface ChatContext {
  readonly peer: Peer;
  print(...lines: string[]): void;
  /** The peer plain lines go to, by id. */
  current: string | null;
  /** Peer ids in the order the last /peers showed them (for `/to 2`). */
  listed: string[];
  /** Sends, remembering the text for the state notices. */
  send(peer: PeerSummary, text: string): Promise<void>;
  quit(): void;
}

interface Command {
  args: string;
  help: string;
  run(chat: ChatContext, args: string): void | Promise<void>;
}

const DEFAULT_HISTORY = 20;
const CONTACT_TIMEOUT_MS = 5_000;

/** Resolves a peer reference, printing the problem when there is one. */
export function resolvePeer(chat: ChatContext, ref: string | undefined): PeerSummary | null {
  const peers = chat.peer.peers();
  if (ref === undefined) {
    const current = peers.find((p) => p.id === chat.current);
    if (!current) chat.print('no conversation selected: /to <peer> first (/peers lists them)');
    return current ?? null;
  }
  const selection = selectPeer(ref, peers, chat.listed.length ? chat.listed : sortPeers(peers).map((p) => p.id));
  if (!selection.ok) chat.print(selection.problem);
  return selection.ok ? selection.peer : null;
}

export const COMMANDS: Record<string, Command> = {
  peers: {
    args: '',
    help: 'list known peers: number, name, id prefix, status (online, or online via bridge, offline or unreachable, last seen), where from, unread',
    run(chat) {
      const peers = sortPeers(chat.peer.peers());
      chat.listed = peers.map((p) => p.id);
      if (peers.length === 0) {
        chat.print('no peers known yet: /contact host:port greets one (start with --peer to do it at start)');
        return;
      }
      const width = Math.max(...peers.map((p) => safe(p.name).length));
      chat.print(...peers.map((p, i) => peerLine(i + 1, p, width)));
    },
  },
  to: {
    args: '<peer>',
    help: 'talk to a peer: a number from /peers, a name or an id prefix',
    run(chat, args) {
      const peer = resolvePeer(chat, args);
      if (!peer) return;
      chat.current = peer.id;
      const unread = peer.unread > 0 ? ` (${peer.unread} unread: /history shows them)` : '';
      chat.print(`talking to ${safe(peer.name)} (${shortId(peer.id)}); type a line to send it${unread}`);
    },
  },
  msg: {
    args: '<peer> <text>',
    help: 'send one message to a peer without switching to it',
    async run(chat, args) {
      const match = /^(\S+)\s+(.+)$/s.exec(args);
      if (!match?.[1] || !match[2]) {
        chat.print('usage: /msg <peer> <text>');
        return;
      }
      const peer = resolvePeer(chat, match[1]);
      if (peer) await chat.send(peer, match[2]);
    },
  },
  history: {
    args: '[peer] [n]',
    help: `show the last n (${DEFAULT_HISTORY}) messages with their state, and mark them read; /history 50 = current peer`,
    run(chat, args) {
      const words = args.split(/\s+/).filter(Boolean);
      const last = words.at(-1);
      const count = last && /^\d+$/.test(last) && (words.length === 2 || chat.current) ? Number(last) : undefined;
      if (count !== undefined) words.pop();
      if (words.length > 1 || count === 0) {
        chat.print('usage: /history [peer] [n], n at least 1');
        return;
      }
      const peer = resolvePeer(chat, words[0]);
      if (!peer) return;
      const messages = chat.peer.history(peer.id, count ?? DEFAULT_HISTORY);
      if (messages.length === 0) chat.print(`no messages with ${safe(peer.name)} yet`);
      chat.print(...messages.map((m) => historyLine(m, peer.name)));
      chat.peer.markRead(peer.id);
    },
  },
  read: {
    args: '[peer]',
    help: 'mark messages read: from a peer, the current one, or (none selected) everyone',
    run(chat, args) {
      const targets = args || chat.current ? [resolvePeer(chat, args || undefined)] : chat.peer.peers();
      let total = 0;
      for (const peer of targets) {
        if (!peer) return;
        total += chat.peer.markRead(peer.id);
      }
      chat.print(`marked ${total} message${total === 1 ? '' : 's'} read`);
    },
  },
  contact: {
    args: '<host:port>',
    help: 'greet a peer at its greeting address and keep in touch with it',
    async run(chat, args) {
      if (!args) {
        chat.print('usage: /contact <host:port>, the greeting address of another peer (e.g. 127.0.0.1:7400)');
        return;
      }
      chat.print(`contacting ${args}…`);
      let peer: PeerSummary;
      try {
        peer = await chat.peer.contact(args, { timeoutMs: CONTACT_TIMEOUT_MS });
      } catch (err) {
        chat.print(`could not contact ${args}: ${contactProblem(err)}`);
        return;
      }
      chat.print(`contacted ${safe(peer.name)} (${shortId(peer.id)}): /to ${safe(peer.name)} to talk`);
    },
  },
  whoami: {
    args: '',
    help: 'show this peer: name, id, fingerprint, ports',
    run(chat) {
      chat.print(...banner(chat.peer));
    },
  },
  help: {
    args: '',
    help: 'show the commands',
    run(chat) {
      const left = Object.entries(COMMANDS).map(([name, c]) => `/${name}${c.args ? ` ${c.args}` : ''}`);
      const width = Math.max(...left.map((l) => l.length)) + 2;
      chat.print(
        ...Object.values(COMMANDS).map((c, i) => `  ${(left[i] ?? '').padEnd(width)}${c.help}`),
        '  Any other line is sent to the current peer (start it with // to send a line beginning with /).',
      );
    },
  },
  quit: {
    args: '',
    help: 'stop the peer and leave (Ctrl+D too)',
    run(chat) {
      chat.quit();
    },
  },
};

/** Why a greeting failed, in words: grpc's own messages are long and technical. */
function contactProblem(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${CONTACT_TIMEOUT_MS / 1000} s`;
  const code = 'code' in err ? err.code : undefined;
  if (code === grpc.status.UNAVAILABLE) {
    return 'nothing answers there; is the peer running, and is that its greeting port (not its secure port)?';
  }
  return err.message;
}
