/**
 * bob, the demo's bot: a peer in a child process of the demo (`fork(bot.js, [demoDir])`
 * with an IPC channel). It answers every message with a short reply that shows it read it,
 * and marks the conversation read. It stops when the channel to its parent closes (the demo
 * stopping or dying) or on SIGTERM.
 */
import { peerOptionsOf } from '../cli/config.js';
import { createLogger } from '../cli/logger.js';
import { readyMessage } from '../harness/protocol.js';
import { Peer } from '../peer.js';
import type { MessageRecord } from '../store/records.js';
import type { BotMessage } from './bot-process.js';
import { replyTo } from './bot-reply.js';
import { BOT_NAME, demoPaths, demoPeerConfig } from './demo-config.js';

function post(message: BotMessage): void {
  process.send?.(message);
}

async function main(root: string | undefined): Promise<void> {
  if (!root || !process.connected) {
    throw new Error('bot.js is started by the demo (two-peers.js), with the demo directory and an IPC channel');
  }
  const config = demoPeerConfig(BOT_NAME, demoPaths(root));
  const log = createLogger(config);
  const peer = new Peer(peerOptionsOf(config, log));
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'bot stopping');
    peer
      .stop()
      .catch((err: unknown) => log.error({ err }, 'bot did not stop cleanly'))
      .finally(() => process.exit(0));
  };
  process.on('disconnect', () => stop('parent disconnected'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Ctrl+C reaches the whole process group; the demo decides when bob stops.
  process.on('SIGINT', () => log.info('SIGINT ignored: the demo stops the bot'));

  peer.on('message', (message: MessageRecord) => {
    if (!peer.isRunning) return;
    peer.markRead(message.peerId);
    peer.send(message.peerId, replyTo(message.text)).then(
      (reply) => log.info({ messageId: message.id, replyId: reply.id }, 'answered'),
      (err: unknown) => log.warn({ err, messageId: message.id }, 'could not answer'),
    );
  });
  const startedAtMs = Date.now();
  await peer.start();
  if (stopping) return;
  post(readyMessage(peer, startedAtMs));
}

main(process.argv[2]).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  post({ type: 'fatal', name: err instanceof Error ? err.name : 'Error', message });
  process.stderr.write(`bot: ${message}\n`);
  process.exit(1);
});
