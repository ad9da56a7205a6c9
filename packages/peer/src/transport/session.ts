import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Frame } from '@p2p-messenger/proto';
import type { DecodedFrame } from './frame-codec.js';
import { DIRECT, type SessionPath } from './session-path.js';

/** Who opened the stream: this peer ('local') or the other one ('remote'). */
export type Initiator = 'local' | 'remote';

export interface SessionClosed {
  code: grpc.status;
  details: string;
}

interface SessionEvents {
  closed: [SessionClosed];
}

type ServerStream = grpc.ServerDuplexStream<DecodedFrame, Frame>;
type ClientStream = grpc.ClientDuplexStream<Frame, DecodedFrame>;

/**
 * One authenticated Session stream with one peer, from either end, carrying frames both ways.
 * A malformed frame closes it with INVALID_ARGUMENT and a reason the other side can read.
 */
export class Session extends EventEmitter<SessionEvents> {
  readonly peerId: string;
  readonly initiator: Initiator;
  /** Straight to the peer, or through a bridge (which only moves the TLS bytes). */
  readonly path: SessionPath;
  readonly openedAtMs = Date.now();
  #closed = false;
  #handler: ((frame: Frame) => void) | null = null;
  readonly #early: Frame[] = [];
  readonly #established: Promise<void>;
  #markEstablished: () => void = () => {};
  readonly #stream: Duplex;
  readonly #sendStatus: (code: grpc.status, details: string) => void;

  private constructor(
    peerId: string,
    initiator: Initiator,
    stream: Duplex,
    sendStatus: (code: grpc.status, details: string) => void,
    path: SessionPath,
  ) {
    super();
    this.peerId = peerId;
    this.initiator = initiator;
    this.path = path;
    this.#stream = stream;
    this.#sendStatus = sendStatus;
    this.#established = new Promise((resolve, reject) => {
      this.#markEstablished = resolve;
      this.once('closed', (info) => reject(Object.assign(new Error(info.details), info)));
    });
    this.#established.catch(() => {});
    stream.on('data', (decoded: DecodedFrame) => {
      if (this.#closed) return;
      if (!decoded.ok) {
        this.close(grpc.status.INVALID_ARGUMENT, `malformed frame: ${decoded.reason}`);
        return;
      }
      this.#markEstablished();
      if (this.#handler) this.#handler(decoded.frame);
      else this.#early.push(decoded.frame);
    });
    stream.on('end', () => this.close(grpc.status.OK, 'closed by the other side'));
    stream.on('error', (err: Partial<grpc.StatusObject>) =>
      this.#markClosed({ code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? String(err) }),
    );
    stream.on('close', () => this.#markClosed({ code: grpc.status.UNAVAILABLE, details: 'stream closed' }));
  }

  /** The server end of a stream a remote peer opened. */
  static fromServerCall(peerId: string, call: ServerStream, path: SessionPath = DIRECT): Session {
    call.on('cancelled', () => session.#markClosed({ code: grpc.status.CANCELLED, details: 'cancelled by peer' }));
    const session = new Session(
      peerId,
      'remote',
      call as unknown as Duplex,
      (code, details) => {
        if (code === grpc.status.OK) call.end();
        else call.emit('error', { code, details });
      },
      path,
    );
    return session;
  }

  /** The client end of a stream this peer opened. */
  static fromClientCall(peerId: string, call: ClientStream, path: SessionPath = DIRECT): Session {
    return new Session(
      peerId,
      'local',
      call as unknown as Duplex,
      (code) => {
        if (code === grpc.status.OK) call.end();
        else call.cancel();
      },
      path,
    );
  }

  /** Resolves when the first frame arrives; rejects with the status if the stream ends first. */
  established(): Promise<void> {
    return this.#established;
  }

  /** Sets the frame handler; frames that arrived before are handed over first. */
  attach(handler: (frame: Frame) => void): void {
    this.#handler = handler;
    for (const frame of this.#early.splice(0)) handler(frame);
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  /** Queues a frame; false means the stream's buffer is full: wait for `drained()`. */
  send(frame: Frame): boolean {
    if (this.#closed) return false;
    return this.#stream.write(frame);
  }

  /** Resolves when the stream can take more frames, or is closed. */
  drained(): Promise<void> {
    if (this.#closed || !this.#stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#stream.off('drain', done);
        this.off('closed', done);
        resolve();
      };
      this.#stream.on('drain', done);
      this.on('closed', done);
    });
  }

  /** Ends the stream, with a status the other side will see. Safe to call twice. */
  close(code: grpc.status = grpc.status.OK, details = 'closed'): void {
    if (this.#closed) return;
    this.#sendStatus(code, details);
    this.#markClosed({ code, details });
  }

  #markClosed(info: SessionClosed): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('closed', info);
  }
}
