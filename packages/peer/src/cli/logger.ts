import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { CliConfig } from './config.js';

/** What the logger needs of a command's configuration (the bridge's command uses it too). */
export type LoggerSettings = Pick<CliConfig, 'name' | 'logLevel' | 'logFile'>;

/**
 * The process's one root logger: into the log file (so it does not garble the chat), or to
 * stderr for `--log-file -`. Writes are synchronous, so nothing is lost when the process exits.
 */
export function createLogger(config: LoggerSettings): Logger {
  const log = openLogger(config);
  routeGrpcLogs(log.child({ component: 'grpc' }));
  return log;
}

function openLogger(config: LoggerSettings): Logger {
  const options = { level: config.logLevel, base: { pid: process.pid, name: config.name } };
  if (config.logFile === '-') return pino(options, pino.destination({ dest: 2, sync: true }));
  try {
    // The log usually lives in the data dir, which holds the private key: keep it private.
    mkdirSync(dirname(config.logFile), { recursive: true, mode: 0o700 });
    return pino(options, pino.destination({ dest: config.logFile, sync: true }));
  } catch (err) {
    throw new ConfigError(
      `cannot write the log file ${config.logFile} (${(err as Error).message}); pass --log-file with a writable path, or --log-file - for stderr`,
    );
  }
}

/**
 * grpc-js writes its own diagnostics to the console, which would garble the chat and the
 * error messages: send them to the log instead. (grpc-js has one logger per process; the
 * command owns the process, so this is the place to set it.)
 */
function routeGrpcLogs(log: Logger): void {
  const write =
    (level: 'debug' | 'info' | 'warn') =>
    (...args: unknown[]) =>
      log[level](args.map(String).join(' '));
  grpc.setLogger({ debug: write('debug'), info: write('info'), error: write('warn') });
}
