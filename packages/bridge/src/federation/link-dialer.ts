import * as grpc from '@grpc/grpc-js';
import { type BackoffInit, backoffDelay } from '@p2p-messenger/discovery';
import { type LocalIdentity, pinnedChannelOptions, verifyIdentityRecord } from '@p2p-messenger/peer';
import { type BridgeIdentifyResponse, FederationClient, type PeerIdentity } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { BridgeIdentityError, LinkClosedError } from './errors.js';
import {
  type LinkKeepalive,
  linkChannelOptions,
  pinnedLinkChannel,
  unverifiedChannelCredentials,
} from './link-credentials.js';
import { LinkSession } from './link-session.js';
import type { LinkState } from './link-state.js';
import { LeanFederationClient } from './relay-chunk-codec.js';

/** A bridge to dial: its id (checked, not trusted on the address's word) and address. */
export interface JoinTarget {
  readonly bridgeId: string;
  readonly host: string;
  readonly port: number;
}

export interface LinkDialerInit {
  identity: LocalIdentity;
  target: JoinTarget;
  log: Logger;
  /**
   * A link came up: wire its session (the client makes Relay calls on the same channel).
   * False: not wanted (a link the other bridge dialed is kept instead); the dialer tries later.
   */
  onSession(session: LinkSession, client: FederationClient): boolean;
  onState?(state: LinkState): void;
  backoff?: BackoffInit;
  /** Identify and hello each (default 5 s). */
  handshakeTimeoutMs?: number;
  keepalive?: LinkKeepalive;
}

/**
 * Keeps one link to a bridge we join: Identify over an unverified channel, check the record
 * against the expected id, open the Link stream on a channel pinned to that certificate,
 * exchange hellos; when the link drops, dial again after a backoff with jitter.
 */
export class LinkDialer {
  readonly #init: LinkDialerInit;
  readonly #address: string;
  #state: LinkState;
  #running = false;
  #loop: Promise<void> | null = null;
  #session: LinkSession | null = null;
  #wake: (() => void) | null = null;

  constructor(init: LinkDialerInit) {
    this.#init = init;
    const { host, port, bridgeId } = init.target;
    this.#address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#state = { bridgeId, role: 'dialer', up: false, sinceMs: Date.now(), lastError: null, attempts: 0 };
  }

  get state(): LinkState {
    return this.#state;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Closes the link (the other bridge withdraws what came through it) and stops dialing. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#session?.close();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const log = this.#init.log;
    while (this.#running) {
      try {
        await this.#connectOnce();
      } catch (err) {
        if (!this.#running) break;
        this.#setState({ up: false, lastError: (err as Error).message, attempts: this.#state.attempts + 1 });
        log.warn({ err, bridgeId: this.#init.target.bridgeId, address: this.#address }, 'link failed');
      }
      if (!this.#running) break;
      await this.#pause(backoffDelay(this.#state.attempts, this.#init.backoff));
    }
    this.#setState({ up: false });
  }

  async #connectOnce(): Promise<void> {
    const { identity, target, log } = this.#init;
    const timeoutMs = this.#init.handshakeTimeoutMs ?? 5_000;
    const record = await this.#identify(timeoutMs);
    const { credentials, options } = pinnedLinkChannel(
      identity,
      target.bridgeId,
      record.certificate,
      this.#init.keepalive,
    );
    const client = new LeanFederationClient(this.#address, credentials, options);
    try {
      const session = new LinkSession({
        localId: identity.id,
        remoteId: target.bridgeId,
        role: 'dialer',
        call: client.link(),
        log,
      });
      this.#session = session;
      const closed = new Promise<Error | null>((resolve) => session.once('closed', resolve));
      await session.ready(timeoutMs);
      if (!this.#running) {
        session.close();
        await closed;
        return;
      }
      if (!this.#init.onSession(session, client)) {
        session.close();
        await closed;
        throw new LinkClosedError(`bridge ${target.bridgeId} dialed us too: its link is the one kept`);
      }
      this.#setState({ up: true, lastError: null, attempts: 0 });
      log.info({ bridgeId: target.bridgeId, address: this.#address }, 'link up');
      const err = await closed;
      if (this.#running) throw err ?? new LinkClosedError(`bridge ${target.bridgeId} ended the link`);
    } finally {
      this.#session = null;
      client.close();
    }
  }

  /** The other bridge's record, checked against the id we expect before anything is pinned. */
  async #identify(timeoutMs: number): Promise<PeerIdentity> {
    const { identity, target } = this.#init;
    // The expected id as the TLS server name, as on the pinned channel (an IP address is no server name).
    const client = new FederationClient(this.#address, unverifiedChannelCredentials(identity), {
      ...pinnedChannelOptions(target.bridgeId),
      ...linkChannelOptions(),
    });
    try {
      const response = await new Promise<BridgeIdentifyResponse>((resolve, reject) => {
        client.identify({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, value) =>
          err ? reject(err) : resolve(value),
        );
      });
      try {
        return verifyIdentityRecord(response.identity, target.bridgeId);
      } catch (err) {
        throw new BridgeIdentityError(`${this.#address} is not bridge ${target.bridgeId}: ${(err as Error).message}`);
      }
    } finally {
      client.close();
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = null;
    });
  }

  #setState(change: Partial<LinkState>): void {
    const up = change.up ?? this.#state.up;
    const sinceMs = up !== this.#state.up ? Date.now() : this.#state.sinceMs;
    this.#state = { ...this.#state, ...change, sinceMs };
    this.#init.onState?.(this.#state);
  }
}
