/** A Lamport clock: ticks for own messages, jumps past any time seen from others. */
export class LamportClock {
  #time: number;

  constructor(start = 0) {
    this.#time = start;
  }

  tick(): number {
    this.#time += 1;
    return this.#time;
  }

  observe(time: number): void {
    if (time > this.#time) this.#time = time;
  }

  get time(): number {
    return this.#time;
  }
}
