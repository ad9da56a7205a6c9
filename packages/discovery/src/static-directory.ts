import { type Logger, pino } from 'pino';
import { backoffDelay } from './backoff.js';
import { DirectoryBase } from './directory.js';
import type { Contact, Greeter } from './host.js';

export interface StaticOptions {
  /** Greeting addresses to contact. */
  contacts: readonly Contact[];
  greet: Greeter;
  /** How often a peer that answered is greeted again, to notice a change of identity. */
  refreshMs?: number;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  log?: Logger;
}

interface Target {
  contact: Contact;
  attempts: number;
  peerId: string | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Peers at addresses given by the user: each address is greeted (until it answers, with
 * backoff) to learn whose it is, and greeted again now and then. An address whose owner
 * changed reports the old peer removed and the new one found.
 */
export class StaticDirectory extends DirectoryBase {
  readonly source = 'static' as const;
  readonly #options: StaticOptions;
  readonly #log: Logger;
  #targets: Target[] = [];
  #running = false;

  constructor(options: StaticOptions) {
    super();
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ directory: 'static' });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.markStarted();
    this.#running = true;
    this.#targets = this.#options.contacts.map((contact) => ({ contact, attempts: 0, peerId: null, timer: null }));
    for (const target of this.#targets) void this.#greet(target);
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const target of this.#targets) if (target.timer) clearTimeout(target.timer);
    this.#targets = [];
    this.markStopped();
  }

  async #greet(target: Target): Promise<void> {
    target.timer = null;
    let delay: number;
    try {
      const greeted = await this.#options.greet(target.contact);
      if (!this.#running) return;
      if (target.peerId && target.peerId !== greeted.id) this.remove(target.peerId, 'removed');
      target.peerId = greeted.id;
      target.attempts = 0;
      this.put({
        id: greeted.id,
        name: greeted.name,
        addresses: [target.contact.host, ...greeted.addresses.filter((a) => a !== target.contact.host)],
        greetingPort: target.contact.port,
        securePort: greeted.securePort,
        protocolVersion: greeted.protocolVersion,
        knownPeerIds: greeted.knownPeerIds,
        sources: ['static'],
        lastSeenMs: Date.now(),
      });
      delay = this.#options.refreshMs ?? 60_000;
    } catch (err) {
      if (!this.#running) return;
      if (target.attempts === 0) {
        this.#log.info({ contact: target.contact, err: (err as Error).message }, 'static peer not answering yet');
      }
      delay = backoffDelay(target.attempts++, this.#options.retry ?? { minDelayMs: 500, maxDelayMs: 30_000 });
    }
    if (this.#running) target.timer = setTimeout(() => void this.#greet(target), delay);
  }
}
