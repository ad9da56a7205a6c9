import type { MessageStore, NewOutgoingMessage } from '../store/message-store.js';

interface Pending {
  message: NewOutgoingMessage;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for outgoing messages: sends made in the same turn of the event loop are
 * written in one transaction, and each send resolves only once its message is on disk.
 */
export class OutboxWriter {
  readonly #store: MessageStore;
  readonly #onWritten: (messages: NewOutgoingMessage[]) => void;
  #pending: Pending[] = [];
  #scheduled: NodeJS.Immediate | null = null;

  constructor(store: MessageStore, onWritten: (messages: NewOutgoingMessage[]) => void) {
    this.#store = store;
    this.#onWritten = onWritten;
  }

  write(message: NewOutgoingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ message, resolve, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Writes everything pending now. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const messages = batch.map((entry) => entry.message);
    try {
      this.#store.insertOutgoing(messages);
    } catch (err) {
      for (const entry of batch) entry.reject(err);
      return;
    }
    for (const entry of batch) entry.resolve();
    this.#onWritten(messages);
  }
}
