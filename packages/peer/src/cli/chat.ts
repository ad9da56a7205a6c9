import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { Peer, PeerSummary, StateChange } from '../peer.js';
import type { MessageRecord } from '../store/records.js';
import { type ChatContext, COMMANDS, resolvePeer } from './chat-commands.js';
import { incomingLine, quote, safe, shortId, stateLine } from './chat-format.js';
import { complete } from './peer-select.js';
import { banner } from './summary.js';

export interface ChatIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** A terminal gets a prompt, line editing and Tab completion; pipes get plain lines. */
  terminal: boolean;
}

/** Texts of our recent messages, so that state notices can quote them. */
const REMEMBERED_TEXTS = 500;
/**
 * A session being replaced (both peers dialled at once, or a reconnect) looks like a short
 * offline spell; a peer is only reported offline when it stays so for this long.
 */
const OFFLINE_NOTICE_DELAY_MS = 2_000;

/**
 * The interactive chat: reads commands and messages line by line, prints what arrives
 * without breaking the line being typed. `run()` resolves on /quit, Ctrl+C, EOF or `close()`.
 */
export class Chat implements ChatContext {
  readonly peer: Peer;
  current: string | null = null;
  listed: string[] = [];
  readonly #io: ChatIo;
  readonly #texts = new Map<string, string>();
  /** The online state last printed for each peer. */
  readonly #shownOnline = new Map<string, boolean>();
  /** Offline notices waiting to see whether the peer comes straight back. */
  readonly #offlineNotices = new Map<string, NodeJS.Timeout>();
  #rl: Interface | null = null;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();
  #done: Promise<void> | null = null;

  constructor(peer: Peer, io: ChatIo) {
    this.peer = peer;
    this.#io = io;
  }

  run(): Promise<void> {
    this.#done ??= new Promise((resolve) => {
      for (const p of this.peer.peers()) this.#shownOnline.set(p.id, p.online);
      const rl = createInterface({
        input: this.#io.input,
        output: this.#io.output,
        terminal: this.#io.terminal,
        completer: (line: string) =>
          complete(
            line,
            Object.keys(COMMANDS).map((c) => `/${c}`),
            this.peer.peers(),
          ),
      });
      this.#rl = rl;
      this.print(...banner(this.peer), 'Type /help for the commands, /peers to see who is there.');
      this.peer.on('message', this.#onMessage);
      this.peer.on('state', this.#onState);
      this.peer.on('peer', this.#onPeer);
      rl.on('line', (line) => {
        this.#queue = this.#queue.then(() => this.#handle(line));
      });
      rl.on('SIGINT', () => this.close());
      rl.on('close', () => {
        this.#closed = true;
        this.#detach();
        void this.#queue.then(() => resolve());
      });
      this.#prompt();
    });
    return this.#done;
  }

  /** Ends the chat after the commands already typed; the peer keeps running. Safe twice. */
  close(): void {
    this.#rl?.close();
  }

  quit(): void {
    this.print('stopping…');
    this.close();
  }

  print(...lines: string[]): void {
    if (lines.length === 0) return;
    const out = this.#io.output;
    const rl = this.#rl;
    if (!this.#io.terminal || !rl || this.#closed) {
      out.write(`${lines.join('\n')}\n`);
      return;
    }
    clearLine(out, 0);
    cursorTo(out, 0);
    out.write(`${lines.join('\n')}\n`);
    rl.prompt(true);
  }

  async send(peer: PeerSummary, text: string): Promise<void> {
    const message = await this.peer.send(peer.id, text);
    this.#texts.set(message.id, text);
    if (this.#texts.size > REMEMBERED_TEXTS) {
      const oldest = this.#texts.keys().next().value;
      if (oldest !== undefined) this.#texts.delete(oldest);
    }
    if (!peer.online) {
      this.print(`  … queued for ${safe(peer.name)}, who is offline: it goes out when they are back`);
    }
  }

  async #handle(line: string): Promise<void> {
    try {
      if (line.trim() === '') return;
      if (line.startsWith('/') && !line.startsWith('//')) {
        const [, name = '', args = ''] = /^\/(\S*)\s*(.*)$/s.exec(line) ?? [];
        const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
        if (command) await command.run(this, args.trim());
        else this.print(`unknown command /${safe(name)}: /help lists the commands`);
        return;
      }
      const peer = resolvePeer(this, undefined);
      if (peer) await this.send(peer, line.startsWith('//') ? line.slice(1) : line);
    } catch (err) {
      this.print(`error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#prompt();
    }
  }

  #prompt(): void {
    const rl = this.#rl;
    if (!this.#io.terminal || !rl || this.#closed) return;
    const current = this.current ? this.#nameOf(this.current) : '';
    rl.setPrompt(`${safe(current)}> `);
    rl.prompt(true);
  }

  #detach(): void {
    for (const timer of this.#offlineNotices.values()) clearTimeout(timer);
    this.#offlineNotices.clear();
    this.peer.off('message', this.#onMessage);
    this.peer.off('state', this.#onState);
    this.peer.off('peer', this.#onPeer);
  }

  #nameOf(peerId: string): string {
    return this.peer.peers().find((p) => p.id === peerId)?.name ?? shortId(peerId);
  }

  readonly #onMessage = (message: MessageRecord): void => {
    this.print(incomingLine(this.#nameOf(message.peerId), message.text));
    if (message.peerId === this.current && this.peer.isRunning) this.peer.markRead(message.peerId);
  };

  readonly #onState = (change: StateChange): void => {
    if (change.state === 'queued' || change.state === 'sent') return;
    const text =
      this.#texts.get(change.messageId) ??
      (this.peer.isRunning ? this.peer.history(change.peerId).find((m) => m.id === change.messageId)?.text : undefined);
    const what = text === undefined ? `message ${change.messageId}` : quote(text);
    this.print(stateLine(change.state, this.#nameOf(change.peerId), what, change.error));
    if (change.state === 'read' || change.state === 'failed') this.#texts.delete(change.messageId);
  };

  readonly #onPeer = (peer: PeerSummary): void => {
    clearTimeout(this.#offlineNotices.get(peer.id));
    this.#offlineNotices.delete(peer.id);
    const shown = this.#shownOnline.get(peer.id);
    if (shown === peer.online) return;
    const name = `${safe(peer.name)} (${shortId(peer.id)})`;
    if (peer.online) {
      this.#shownOnline.set(peer.id, true);
      this.print(`* ${name} is online`);
      return;
    }
    const timer = setTimeout(() => {
      this.#offlineNotices.delete(peer.id);
      this.#shownOnline.set(peer.id, false);
      this.print(shown === undefined ? `* learned of ${name}, offline for now` : `* ${name} is offline`);
    }, OFFLINE_NOTICE_DELAY_MS);
    timer.unref();
    this.#offlineNotices.set(peer.id, timer);
  };
}
