interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs the calls made within one turn of the event loop together: `run` gets their inputs in
 * order and returns one output each. For SQLite, many writes in one transaction: a commit costs
 * the same system calls for one row as for fifty, and a burst of log-ins makes them fifty.
 * If `run` throws, every call of that turn fails with the error.
 */
export class TurnBatch<I, O> {
  readonly #run: (inputs: readonly I[]) => O[];
  #pending: Pending<I, O>[] = [];

  constructor(run: (inputs: readonly I[]) => O[]) {
    this.#run = run;
  }

  add(input: I): Promise<O> {
    return new Promise((resolve, reject) => {
      if (this.#pending.push({ input, resolve, reject }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    let outputs: O[];
    try {
      outputs = this.#run(batch.map((call) => call.input));
    } catch (err) {
      for (const call of batch) call.reject(err);
      return;
    }
    for (const [i, call] of batch.entries()) call.resolve(outputs[i] as O);
  }
}
