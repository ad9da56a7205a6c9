#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { untilStopSignal } from '@p2p-messenger/peer';
import pino, { type Logger } from 'pino';
import { type DispatcherConfig, parseDispatcherCommand } from './config/config.js';
import { usage } from './config/options.js';
import { startEmbedded } from './embedded.js';
import { DispatcherConfigError } from './errors.js';

function createLogger(config: DispatcherConfig): Logger {
  const options = {
    level: config.logLevel,
    base: { pid: process.pid },
    // Cookies, tickets and passwords never reach the log.
    redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'password'],
  };
  if (config.logFile === '-') return pino(options, pino.destination({ dest: 2, sync: true }));
  mkdirSync(dirname(config.logFile), { recursive: true, mode: 0o700 });
  return pino(options, pino.destination({ dest: config.logFile, sync: true }));
}

async function main(argv: string[]): Promise<number> {
  let config: DispatcherConfig;
  try {
    const command = parseDispatcherCommand(argv, process.env, homedir());
    if (command.kind === 'help') {
      process.stdout.write(usage());
      return 0;
    }
    config = command.config;
  } catch (err) {
    if (!(err instanceof DispatcherConfigError)) throw err;
    process.stderr.write(`dispatcher: ${err.message}\nRun "dispatcher --help" for usage.\n`);
    return 2;
  }
  const log = createLogger(config);
  const stop = untilStopSignal();
  let dispatcher: Awaited<ReturnType<typeof startEmbedded>>;
  try {
    dispatcher = await startEmbedded(config, log);
  } catch (err) {
    log.error({ err }, 'dispatcher did not start');
    process.stderr.write(`dispatcher: ${describe(err, config)}\n`);
    return 1;
  }
  const passwordFile = config.adminPasswordFile ?? join(config.dataDir, 'admin-password');
  process.stdout.write(
    [
      `dispatcher ready: open ${dispatcher.url}/ in a browser`,
      `  admin        ${dispatcher.url}/admin (user ${config.adminUser}, password in ${passwordFile})`,
      `  metrics      ${metricsUrl(dispatcher)}`,
      ...(dispatcher.bridge && config.bridge
        ? [
            `  bridge       ${dispatcher.bridge.id} on ${hostPort({ host: config.bridge.listen.host, port: dispatcher.bridge.federation.port })} (links from ${config.bridge.trust.length} trusted bridges; join it with --join ${dispatcher.bridge.id}@HOST:${dispatcher.bridge.federation.port})`,
          ]
        : []),
      `  data         ${config.dataDir}`,
      `  log          ${config.logFile === '-' ? 'stderr' : config.logFile}`,
      '  Ctrl+C stops it (and the peers it runs; they come back at the next start)',
      '',
    ].join('\n'),
  );
  const signal = await stop;
  log.info({ signal }, 'stopping');
  process.stdout.write('dispatcher: stopping the peers…\n');
  await dispatcher.app.close();
  return 0;
}

function hostPort({ host, port }: { host: string; port: number }): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function metricsUrl(dispatcher: Awaited<ReturnType<typeof startEmbedded>>): string {
  const own = dispatcher.app.dispatcher.metricsListener?.address();
  if (!own) return `${dispatcher.url}/metrics (admin log-in)`;
  const host = own.family === 'IPv6' ? `[${own.address}]` : own.address;
  return `http://${host}:${own.port}/metrics (port of its own, no log-in)`;
}

function describe(err: unknown, config: DispatcherConfig): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    return `port ${config.port} on ${config.host} is in use: pass --port with another one (or stop what uses it)`;
  if (e.code === 'EACCES') return `may not listen on port ${config.port}: use a port above 1023`;
  if (err instanceof DispatcherConfigError) return err.message;
  return `${e.message} (see ${config.logFile === '-' ? 'the log above' : config.logFile})`;
}

process.exit(await main(process.argv.slice(2)));
