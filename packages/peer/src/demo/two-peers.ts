#!/usr/bin/env node
/**
 * The terminal demo (`pnpm demo`): your peer, alice, with the chat in this terminal, and
 * bob, a bot in a child process, both on loopback. Data and logs live in `.demo/` in the
 * current directory, so the history survives a restart; `--reset` starts afresh.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Chat } from '../cli/chat.js';
import { peerOptionsOf } from '../cli/config.js';
import { createLogger } from '../cli/logger.js';
import { Peer, type PeerSummary } from '../peer.js';
import { BotProcess } from './bot-process.js';
import {
  BOT_NAME,
  claimDemoDir,
  type DemoPaths,
  demoPaths,
  demoPeerConfig,
  resetDemoDir,
  USER_NAME,
} from './demo-config.js';

const USAGE = `Usage: pnpm demo [--reset]
       node packages/peer/dist/demo/two-peers.js [--reset]

Starts two peers on this machine: yours (${USER_NAME}), with a chat in this terminal, and
${BOT_NAME}, a bot in a child process that answers every message and marks it read.
Identities, messages and the log are kept in .demo/ in the current directory.

  --reset     delete .demo/ first: new identities, empty history
  -h, --help  show this help
`;

const CONTACT_TIMEOUT_MS = 5_000;
/** How long start-up waits for the session to open before handing over to the chat anyway. */
const ONLINE_TIMEOUT_MS = 10_000;

function out(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One start-up step on one line: what is being done, then how it went. */
async function step<T>(what: string, run: () => Promise<T>, outcome: (value: T) => string): Promise<T> {
  process.stdout.write(`${what}… `);
  try {
    const value = await run();
    out(outcome(value));
    return value;
  } catch (err) {
    out('failed');
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  let reset = false;
  try {
    // `pnpm demo -- --reset` may pass the `--` on.
    const args = argv[0] === '--' ? argv.slice(1) : argv;
    const options = { reset: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    reset = values.reset ?? false;
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const paths = demoPaths(resolve('.demo'));
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals > 1) process.exit(1); // the exit handler still kills the bot
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runDemo(paths, reset, interrupt.signal);
    out(`stopped ${USER_NAME} and ${BOT_NAME}. Start the demo again to carry on; --reset starts afresh.`);
    return 0;
  } catch (err) {
    if (interrupt.signal.aborted) {
      process.stderr.write('demo: interrupted; both peers stopped\n');
      return 130;
    }
    const message = err instanceof Error ? err.message : String(err);
    const details = err instanceof Error && err.name === 'DemoBusyError' ? '' : `\ndetails are in ${paths.logFile}`;
    process.stderr.write(`demo: ${message}${details}\n`);
    return 1;
  }
}

async function runDemo(paths: DemoPaths, reset: boolean, interrupted: AbortSignal): Promise<void> {
  const release = claimDemoDir(paths);
  let bot: BotProcess | undefined;
  let peer: Peer | undefined;
  // Whatever happens, the bot does not outlive the demo.
  const killBot = () => bot?.kill();
  process.on('exit', killBot);
  try {
    if (reset) resetDemoDir(paths);
    const config = demoPeerConfig(USER_NAME, paths);
    const log = createLogger(config);
    out(
      `p2p-messenger demo: your peer ${USER_NAME} chats with ${BOT_NAME}, a bot in a child process, over loopback.`,
      `data: ${paths.root} (${reset ? 'wiped by --reset' : 'kept between runs; --reset starts afresh'})`,
      `log:  ${paths.logFile}`,
    );
    const started = await step(
      `starting ${BOT_NAME}, the bot, in a child process`,
      () => BotProcess.start(paths.root, { signal: interrupted }),
      (b) => `pid ${b.pid}`,
    );
    bot = started;
    interrupted.throwIfAborted();
    const alice = new Peer(peerOptionsOf(config, log));
    peer = alice;
    await step(
      `starting your peer ${USER_NAME}`,
      () => alice.start(),
      () => `greeting port ${alice.greetingPort}, secure port ${alice.securePort}`,
    );
    interrupted.throwIfAborted();
    await step(
      `greeting ${BOT_NAME} at 127.0.0.1:${started.greetingPort}`,
      () => greetBot(alice, started, interrupted),
      () => 'its key matches the id it reported',
    );
    await step(
      'opening the session (TLS 1.3, each side authenticated to its id)',
      () => untilOnline(alice, started.id, interrupted),
      (online) => (online ? `${BOT_NAME} is online` : 'not yet: messages wait in the outbox until it is'),
    );
    interrupted.throwIfAborted();
    await chatWith(alice, started, paths, interrupted);
  } finally {
    await Promise.all([peer?.stop(), bot?.stop()]);
    process.off('exit', killBot);
    release();
  }
}

/** Greets the bot, checking that the peer answering is the one the bot said it is. */
async function greetBot(peer: Peer, bot: BotProcess, signal: AbortSignal): Promise<PeerSummary> {
  const summary = await peer.contact(`127.0.0.1:${bot.greetingPort}`, { signal, timeoutMs: CONTACT_TIMEOUT_MS });
  if (summary.id !== bot.id) {
    throw new Error(`the peer at 127.0.0.1:${bot.greetingPort} is ${summary.id}, not the bot (${bot.id})`);
  }
  return summary;
}

/** Resolves true once a session with the peer is open, false if none opens in time. */
function untilOnline(peer: Peer, peerId: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onPeer = (summary: PeerSummary) => {
      if (summary.id === peerId && summary.online) finish(() => resolve(true));
    };
    const onAbort = () => finish(() => reject(signal.reason));
    const timer = setTimeout(() => finish(() => resolve(false)), ONLINE_TIMEOUT_MS);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      peer.off('peer', onPeer);
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    peer.on('peer', onPeer);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    else if (peer.peers().some((p) => p.id === peerId && p.online)) finish(() => resolve(true));
  });
}

/** The CLI's chat, talking to the bot from the start; ends on /quit, Ctrl+C, EOF or a signal. */
async function chatWith(peer: Peer, bot: BotProcess, paths: DemoPaths, interrupted: AbortSignal): Promise<void> {
  const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const chat = new Chat(peer, { input: process.stdin, output: process.stdout, terminal });
  chat.current = bot.id;
  const stop = () => chat.close();
  interrupted.addEventListener('abort', stop, { once: true });
  let chatting = true;
  void bot.exited.then((code) => {
    if (chatting) {
      chat.print(
        `* ${BOT_NAME} (pid ${bot.pid}) exited unexpectedly (code ${code}); ${paths.logFile} says why.`,
        `  Messages to ${BOT_NAME} wait in the outbox: /quit and start the demo again.`,
      );
    }
  });
  out(`peer ${BOT_NAME} (the bot, pid ${bot.pid})`, `  id           ${bot.id}`, `  fingerprint  ${bot.fingerprint}`);
  const done = chat.run(); // prints who we are first
  const earlier = peer.history(bot.id, 1).length > 0 ? '; /history shows your earlier messages' : '';
  chat.print(
    `You are ${USER_NAME}, talking to ${BOT_NAME}:`,
    `  type a message and press Enter: ${BOT_NAME} answers it and marks it read`,
    `  /help lists the commands${earlier}`,
    '  /quit (or Ctrl+C) stops both peers',
  );
  try {
    await done;
  } finally {
    chatting = false;
    interrupted.removeEventListener('abort', stop);
  }
}

process.exit(await main(process.argv.slice(2)));
