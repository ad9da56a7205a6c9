#!/usr/bin/env node
import { homedir } from 'node:os';
import { createLogger, untilStopSignal } from '@p2p-messenger/peer';
import { type BridgeConfig, parseBridgeCommand } from './config.js';
import { describeFailure } from './failure.js';
import { usage, version } from './help.js';
import { serveBridge } from './serve.js';

async function main(argv: string[]): Promise<number> {
  let config: BridgeConfig | undefined;
  try {
    const command = parseBridgeCommand(argv, process.env, homedir());
    if (command.kind === 'help') process.stdout.write(usage());
    if (command.kind === 'version') process.stdout.write(`${version()}\n`);
    if (command.kind !== 'run') return 0;
    config = command.config;
    const log = createLogger(config);
    // Listening for signals from here on: a SIGTERM while starting still stops gracefully.
    const stopRequested = untilStopSignal();
    try {
      await serveBridge(config, log, stopRequested);
    } catch (err) {
      log.error({ err, component: 'bridge' }, 'bridge failed');
      throw err;
    }
    return 0;
  } catch (err) {
    const { lines, exitCode } = describeFailure(err, config);
    process.stderr.write(`bridge: ${lines.join('\n')}\n`);
    return exitCode;
  }
}

process.exit(await main(process.argv.slice(2)));
