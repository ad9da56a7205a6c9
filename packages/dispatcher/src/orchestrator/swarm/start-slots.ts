/** At most `max` starts at once; the others wait their turn, first come first served. */
export class StartSlots {
  readonly #max: number;
  #taken = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  async take(): Promise<void> {
    if (this.#taken < this.#max) {
      this.#taken++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#taken++;
  }

  release(): void {
    this.#taken--;
    this.#waiting.shift()?.();
  }

  /** Lets every waiting start go on (to find the orchestrator closing). */
  wakeAll(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}
