import type { PeerStartError } from '../orchestrator/orchestrator.js';

/** Peers cannot be started now: the last start failed for a lasting reason, and none is under way. */
export interface StartFailure {
  error: Error;
  /** When the pool tries to start a peer again. */
  retryAtMs: number;
}

/** What the pool does after a failed start: when to try again, and whether to tell the operator. */
export interface AfterFailure {
  inRow: number;
  retryInMs: number;
  /** The first failure of a reason that lasts: said once, as an error. */
  newlyLasting: boolean;
}

/** The longest pause between starts while a lasting reason stays (no engine, no image). */
const MAX_PAUSE_MS = 30_000;

/**
 * The failed starts of a pool since its last good one, and the pauses they call for: a start
 * that failed for a reason that lasts doubles the pause with each failure in a row, so that a
 * missing image does not hammer the engine; after a crash or a slow start (a loaded machine)
 * the next start comes after the base pause.
 */
export class StartFailures {
  readonly #baseMs: number;
  #last: { error: Error; atMs: number; inRow: number } | null = null;

  constructor(baseMs: number) {
    this.#baseMs = baseMs;
  }

  /** A start failed: how long to pause, and whether this lasting reason is new. */
  failed(error: Error): AfterFailure {
    const before = this.#last;
    const inRow = (before?.inRow ?? 0) + 1;
    this.#last = { error, atMs: Date.now(), inRow };
    return {
      inRow,
      retryInMs: this.#pauseMs(this.#last),
      newlyLasting: isLasting(error) && !(before && isLasting(before.error)),
    };
  }

  /** A start succeeded: how many had failed in a row before it (0: none). */
  succeeded(): number {
    const inRow = this.#last?.inRow ?? 0;
    this.#last = null;
    return inRow;
  }

  /** Within the pause after a failed start. */
  holdingBack(): boolean {
    return this.#last !== null && Date.now() < this.#last.atMs + this.#pauseMs(this.#last);
  }

  /** Why peers cannot be started now, or null: no lasting reason stands, or a start is under way. */
  current(startsUnderWay: number): StartFailure | null {
    const last = this.#last;
    if (!last || !isLasting(last.error) || startsUnderWay > 0) return null;
    return { error: last.error, retryAtMs: last.atMs + this.#pauseMs(last) };
  }

  #pauseMs(failure: { error: Error; inRow: number }): number {
    return isLasting(failure.error) ? Math.min(this.#baseMs * 2 ** (failure.inRow - 1), MAX_PAUSE_MS) : this.#baseMs;
  }
}

function isLasting(error: Error): boolean {
  return (error as Partial<PeerStartError>).lasting === true;
}
