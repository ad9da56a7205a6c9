import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const ASSETS_DIR = new URL('../../assets/', import.meta.url);
const TYPES: Record<string, string> = {
  'dispatcher.css': 'text/css; charset=utf-8',
  'starting.js': 'text/javascript; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
};

/** The pages' stylesheet and scripts (same origin: the CSP allows nothing else), read once. */
export function assetRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Promise<string>>();
  for (const [name, type] of Object.entries(TYPES)) {
    app.get(`/assets/${name}`, async (_request, reply) => {
      let content = cache.get(name);
      if (!content) {
        content = readFile(fileURLToPath(new URL(name, ASSETS_DIR)), 'utf8');
        cache.set(name, content);
      }
      return reply
        .type(type)
        .header('cache-control', 'public, max-age=300')
        .send(await content);
    });
  }
}
