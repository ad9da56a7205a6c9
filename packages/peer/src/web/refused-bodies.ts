import type { FastifyInstance } from 'fastify';

export interface RefusedBodyLimits {
  /** At most this much more of a refused body is read (and dropped) before the connection is cut. */
  maxBytes?: number;
  /** Nor for longer than this. */
  maxMs?: number;
}

/**
 * Lets a client (or a proxy in front) read a 413 that came while it was still sending the
 * body. Fastify answers it with "Connection: close", and Node then closes the socket with
 * the rest of the body unread, so the kernel resets the connection; a sender still writing
 * meets that reset, often before it has read the answer (a proxy then reports 502). Instead
 * the rest of the body is read and dropped, within bounds, and the connection stays open.
 */
export function drainRefusedBodies(app: FastifyInstance, limits: RefusedBodyLimits = {}): void {
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const maxMs = limits.maxMs ?? 10_000;
  app.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw;
    if (reply.statusCode !== 413 || raw.complete) return payload;
    reply.removeHeader('connection');
    let drained = 0;
    const cut = () => raw.socket?.destroy();
    const timer = setTimeout(cut, maxMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    raw.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > maxBytes) {
        done();
        cut();
      }
    });
    raw.once('end', done);
    raw.once('close', done);
    raw.resume();
    return payload;
  });
}
