import type { FastifyReply } from 'fastify';
import type { PeerEvents } from '../peer-api.js';
import type { ChatPeer } from './chat-peer.js';

const HEARTBEAT_MS = 15_000;

/** Takes over a reply as a server-sent event stream (also behind proxies that buffer); `send` writes one event. */
export function openEventStream(reply: FastifyReply): {
  raw: FastifyReply['raw'];
  send: (event: string, data: unknown) => void;
} {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  return { raw, send: (event, data) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) };
}

/**
 * Streams the peer's events to the owner's browser as server-sent events: `message` (new
 * incoming), `state` (queued, sent, delivered, read, failed) and `peer` (status changes).
 * A comment every 15 s keeps proxies from closing an idle stream.
 */
export function streamEvents(peer: ChatPeer, reply: FastifyReply): void {
  const { raw, send: write } = openEventStream(reply);
  raw.write(': connected\n\n');
  const send = (event: keyof PeerEvents) => (data: unknown) => write(event, data);
  const listeners = {
    message: send('message'),
    state: send('state'),
    peer: send('peer'),
  };
  peer.on('message', listeners.message);
  peer.on('state', listeners.state);
  peer.on('peer', listeners.peer);
  const heartbeat = setInterval(() => raw.write(': keepalive\n\n'), HEARTBEAT_MS);
  const close = () => {
    clearInterval(heartbeat);
    peer.off('message', listeners.message);
    peer.off('state', listeners.state);
    peer.off('peer', listeners.peer);
  };
  raw.once('close', close);
}
