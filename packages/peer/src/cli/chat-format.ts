import type { PeerSummary } from '../peer.js';
import type { MessageRecord, MessageStateName } from '../store/records.js';

/** Characters shown of a peer id, enough to tell peers apart and to type as a prefix. */
export const ID_PREFIX_LENGTH = 8;

// C0 and C1 controls (except tab and newline) and bidi overrides: text from other peers must
// not move the cursor, recolour the terminal or reorder what is shown.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text received from the network, made safe to print to a terminal. */
export function safe(text: string): string {
  return text.replace(UNSAFE, '');
}

/** Continuation lines of a multi-line message, indented under the first. */
export function indentLines(text: string, indent: string): string {
  return safe(text).split('\n').join(`\n${indent}`);
}

export function shortId(id: string): string {
  return id.slice(0, ID_PREFIX_LENGTH);
}

/** A short quote of a message for one-line notices. */
export function quote(text: string, max = 40): string {
  const oneLine = safe(text).replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine);
}

export function ago(ms: number, now = Date.now()): string {
  if (ms <= 0) return 'never';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time; the date too when it is not today. */
export function clock(ms: number, now = Date.now()): string {
  const at = new Date(ms);
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  if (at.toDateString() === new Date(now).toDateString()) return time;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** Peers in the order /peers numbers them: online first, then by name, then by id. */
export function sortPeers(peers: readonly PeerSummary[]): PeerSummary[] {
  return [...peers].sort(
    (a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}

/** "online", and through which bridge when the session goes through one. */
function onlineText(peer: PeerSummary): string {
  return peer.path?.kind === 'bridge' ? `online via bridge ${shortId(peer.path.bridgeId)}` : 'online';
}

/** One line of /peers: `  1  alice   7qx4k2ab  online  via multicast  2 unread`. */
export function peerLine(index: number, peer: PeerSummary, nameWidth: number): string {
  const status =
    peer.status === 'online'
      ? onlineText(peer)
      : peer.status === 'unreachable'
        ? `unreachable, seen ${ago(peer.lastSeenMs)}`
        : `offline, seen ${ago(peer.lastSeenMs)}`;
  const via = peer.sources.length > 0 ? `  via ${peer.sources.join(', ')}` : '';
  const unread = peer.unread > 0 ? `  ${peer.unread} unread` : '';
  return `  ${String(index).padStart(2)}  ${safe(peer.name).padEnd(nameWidth)}  ${shortId(peer.id)}  ${status}${via}${unread}`;
}

const STATE_MARKS: Record<MessageStateName, string> = {
  queued: '… queued',
  sent: '✓ sent',
  delivered: '✓✓ delivered',
  read: '✓✓ read',
  failed: '✗ failed',
};

/** One message of /history, with its delivery state when it is one of ours. */
export function historyLine(message: MessageRecord, peerName: string): string {
  const who = message.outgoing ? 'you' : safe(peerName);
  const head = `  ${clock(message.sentAtMs)}  ${who}: `;
  const body = indentLines(message.text, ' '.repeat(head.length));
  if (!message.outgoing) return message.state === 'read' ? `${head}${body}` : `${head}${body}  (new)`;
  const error = message.state === 'failed' && message.error ? `: ${safe(message.error)}` : '';
  return `${head}${body}  [${STATE_MARKS[message.state]}${error}]`;
}

/** The notice for a change of state of one of our messages (`quoted` is its text, if known). */
export function stateLine(state: MessageStateName, peerName: string, what: string, error?: string): string {
  const name = safe(peerName);
  const to = state === 'read' ? `by ${name}` : `to ${name}`;
  const why = error ? ` (${safe(error)})` : '';
  return `  ${STATE_MARKS[state]} ${to}: ${what}${why}`;
}

/** An incoming message as it arrives: `[alice] hello`. */
export function incomingLine(peerName: string, text: string): string {
  const head = `[${safe(peerName)}] `;
  return `${head}${indentLines(text, ' '.repeat(head.length))}`;
}
