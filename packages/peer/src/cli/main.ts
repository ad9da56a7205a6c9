#!/usr/bin/env node
import { Peer } from '../peer.js';
import { untilStopSignal } from '../util/stop-signal.js';
import { Chat } from './chat.js';
import { type CliConfig, currentSystem, parseCommandLine, peerOptionsOf } from './config.js';
import { describeFailure } from './failure.js';
import { usage, version } from './help.js';
import { createLogger } from './logger.js';
import { readyLine } from './summary.js';

async function main(argv: string[]): Promise<number> {
  let config: CliConfig | undefined;
  try {
    const command = parseCommandLine(argv, process.env, currentSystem());
    if (command.kind === 'help') process.stdout.write(usage());
    if (command.kind === 'version') process.stdout.write(`${version()}\n`);
    if (command.kind !== 'run') return 0;
    config = command.config;
    await serve(config);
    return 0;
  } catch (err) {
    const { lines, exitCode } = describeFailure(err, config);
    process.stderr.write(`peer: ${lines.join('\n')}\n`);
    return exitCode;
  }
}

/** Runs the peer with a chat on this terminal, or as a daemon, until asked to stop. */
async function serve(config: CliConfig): Promise<void> {
  const log = createLogger(config);
  const stopRequested = config.exitWithParent
    ? Promise.race([untilStopSignal(), untilParentExits()])
    : untilStopSignal();
  const peer = new Peer(peerOptionsOf(config, log));
  try {
    await peer.start();
  } catch (err) {
    log.error({ err }, 'peer did not start');
    throw err;
  }
  if (config.interactive) {
    const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const chat = new Chat(peer, { input: process.stdin, output: process.stdout, terminal });
    await Promise.race([chat.run(), stopRequested]);
    chat.close();
  } else {
    process.stdout.write(readyLine(peer));
    const signal = await stopRequested;
    log.info({ signal }, 'stopping');
  }
  await peer.stop();
}

/**
 * Resolves when the parent process has gone (this process is then adopted by another). A parent
 * that sets P2PM_PARENT_PID to its pid also covers going before this process got here (it was
 * still loading): then the parent is already another one.
 */
function untilParentExits(): Promise<NodeJS.Signals> {
  const expected = Number(process.env.P2PM_PARENT_PID);
  const parent = Number.isInteger(expected) && expected > 0 ? expected : process.ppid;
  return new Promise((resolve) => {
    if (process.ppid !== parent) return resolve('SIGHUP');
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      resolve('SIGHUP');
    }, 500);
  });
}

process.exit(await main(process.argv.slice(2)));
