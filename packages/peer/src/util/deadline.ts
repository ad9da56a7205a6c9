/** Every call that does I/O takes these: an abort signal and a time limit. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

export class AbortedError extends Error {
  override name = 'AbortedError';
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Runs `run` with a deadline (which it should pass on to the call it makes), settling early
 * on abort or timeout; the timer and the abort listener are always released.
 */
export function withDeadline<T>(options: CallOptions, run: (deadline: Date) => Promise<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = new Date(Date.now() + timeoutMs);
  if (options.signal?.aborted) return Promise.reject(new AbortedError('aborted'));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(() => reject(new TimeoutError(`timed out after ${timeoutMs} ms`))),
      timeoutMs,
    );
    const onAbort = () => finish(() => reject(new AbortedError('aborted')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    run(deadline).then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
