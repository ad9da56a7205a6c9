import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerEngine } from './docker-engine.js';
import { EntryPoint } from './proxy.js';
import { buildRoutingTable, type RoutingTable } from './routing-table.js';
import { readStaticConfig } from './static-config.js';
import { discoverServices } from './swarm-discovery.js';

/**
 * The Traefik stand-in's process (test code, never shipped): Traefik's static configuration
 * from /etc/traefik/traefik.yml (or the path given), the Swarm provider polling the Docker
 * API every refreshSeconds, each new configuration applied no sooner than
 * providersThrottleDuration after the one before (the newest waiting one wins), and an HTTP
 * server per entry point. Logs are JSON lines on stdout.
 */
const log = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);

const config = readStaticConfig(readFileSync(process.argv[2] ?? '/etc/traefik/traefik.yml', 'utf8'));
for (const note of config.notes) log({ level: 'warn', msg: note });
const engine = new DockerEngine(config.swarm.endpoint);
const entryPoints = [...config.entryPoints].map(([name, port]) => ({ name, port, server: new EntryPoint(name, log) }));
await Promise.all(entryPoints.map((entry) => entry.server.listen(entry.port)));
log({ level: 'info', msg: 'listening', entryPoints: Object.fromEntries(config.entryPoints) });

let stopped = false;
let applied = '';
let lastProblems = '';
let appliedAt = 0;

function apply(table: RoutingTable): void {
  const problems = JSON.stringify(table.problems);
  if (problems !== lastProblems) for (const problem of table.problems) log({ level: 'error', msg: problem });
  lastProblems = problems;
  const routes = JSON.stringify(table.routes);
  if (routes === applied) return;
  for (const entry of entryPoints) entry.server.use(table.routes);
  applied = routes;
  appliedAt = Date.now();
  log({ level: 'info', msg: 'configuration applied', routers: table.routes.map((route) => route.router) });
}

async function poll(): Promise<void> {
  while (!stopped) {
    try {
      const table = buildRoutingTable(await discoverServices(engine), config);
      // providersThrottleDuration: a change waits out the rest of the window since the last one.
      const wait = appliedAt + config.throttleMs - Date.now();
      if (wait > 0 && JSON.stringify(table.routes) !== applied) await sleep(wait);
      apply(table);
    } catch (err) {
      log({ level: 'error', msg: 'provider error', err: (err as Error).message });
    }
    await sleep(config.swarm.refreshMs);
  }
}

process.once('SIGTERM', () => {
  stopped = true;
  void Promise.all(entryPoints.map((entry) => entry.server.close())).then(() => process.exit(0));
});
void poll();
