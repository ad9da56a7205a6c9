/** Errors the dispatcher raises. Callers test `err.name`, never the message text. */

export class DispatcherError extends Error {
  override name = 'DispatcherError';
}

/** The configuration is missing something or has a wrong value; the message says what to do. */
export class DispatcherConfigError extends DispatcherError {
  override name = 'DispatcherConfigError';
}

/** Too many peers are starting for waiting users: try again after `retryAfterS`. */
export class TooBusyError extends DispatcherError {
  override name = 'TooBusyError';
  constructor(readonly retryAfterS: number) {
    super(`too many peers are starting at once; try again in ${retryAfterS} s`);
  }
}

/** Peers cannot be started now (the operator's log says why): try again after `retryAfterS`. */
export class PeersUnavailableError extends DispatcherError {
  override name = 'PeersUnavailableError';
  constructor(readonly retryAfterS: number) {
    super(`no peer can be started right now; try again in ${retryAfterS} s`);
  }
}
