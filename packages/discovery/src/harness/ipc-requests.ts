/**
 * Numbered requests to a child process over its IPC channel, each answered once by a reply
 * with the same number, or failed after a timeout or when the child goes away.
 */
export class IpcRequests {
  readonly #send: (message: { seq: number; request: unknown }) => void;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #seq = 0;

  constructor(send: (message: { seq: number; request: unknown }) => void) {
    this.#send = send;
  }

  request<T>(request: { op: string }, timeoutMs: number): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`${request.op} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.#send({ seq, request });
    });
  }

  /** Settles request `seq` with its reply: a value, or an error. */
  settle(seq: number, outcome: { value: unknown } | { error: Error }): void {
    const pending = this.#pending.get(seq);
    this.#pending.delete(seq);
    if ('error' in outcome) pending?.reject(outcome.error);
    else pending?.resolve(outcome.value);
  }

  /** Fails every request still waiting (the child exited). */
  failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}
