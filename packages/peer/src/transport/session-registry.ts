import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Session } from './session.js';

interface RegistryEvents {
  opened: [Session];
  closed: [Session];
}

/**
 * Keeps at most one session per peer. When both peers dial each other at once, both sides
 * keep the stream opened by the peer with the smaller id and close the other, so they end
 * with the same single stream. A new stream in the same direction replaces the old one (the
 * other side would not open it if the old one still worked).
 */
export class SessionRegistry extends EventEmitter<RegistryEvents> {
  readonly #localId: string;
  readonly #sessions = new Map<string, Session>();

  constructor(localId: string) {
    super();
    this.#localId = localId;
  }

  get(peerId: string): Session | undefined {
    return this.#sessions.get(peerId);
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Adopts the session or closes it with ALREADY_EXISTS; returns whether it was adopted. */
  offer(session: Session): boolean {
    const existing = this.#sessions.get(session.peerId);
    if (existing?.isOpen && existing.initiator !== session.initiator && !this.#wins(session)) {
      session.close(grpc.status.ALREADY_EXISTS, 'a session between these peers already exists');
      return false;
    }
    if (existing) {
      this.#sessions.delete(session.peerId);
      existing.close(grpc.status.ALREADY_EXISTS, 'replaced by a newer session');
    }
    this.#sessions.set(session.peerId, session);
    session.once('closed', () => {
      if (this.#sessions.get(session.peerId) === session) this.#sessions.delete(session.peerId);
      this.emit('closed', session);
    });
    this.emit('opened', session);
    return true;
  }

  closeAll(): void {
    for (const session of this.#sessions.values()) session.close(grpc.status.OK, 'peer is shutting down');
  }

  #wins(session: Session): boolean {
    const localIsSmaller = this.#localId < session.peerId;
    return (session.initiator === 'local') === localIsSmaller;
  }
}
