import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** State changes need this header: a cross-site form or image cannot send it (CSRF). */
export const ADMIN_HEADER = 'x-p2pm-admin';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * An onRequest hook that lets through only the operator's HTTP Basic credentials (compared
 * in constant time), and state changes only with the admin header too.
 */
export function adminOnly(credentials: { user: string; password: string }) {
  const expected = digest(`${credentials.user}:${credentials.password}`);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    if (!timingSafeEqual(digest(given), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="p2p-messenger admin", charset="UTF-8"')
        .send({ error: 'admin credentials needed' });
    }
    if (request.method !== 'GET' && request.headers[ADMIN_HEADER] !== '1') {
      return reply.code(403).send({ error: `state changes need the header ${ADMIN_HEADER}: 1` });
    }
  };
}
