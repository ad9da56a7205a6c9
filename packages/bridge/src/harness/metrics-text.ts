/**
 * A scrape of Prometheus text, by sample: `p2pm_bridge_links_up`, or with its labels as the
 * text writes them, `p2pm_bridge_relay_refusals_total{reason="not-advertised"}`.
 */
export class MetricsText {
  readonly #samples = new Map<string, number>();

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      if (space > 0) this.#samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }

  /** A sample's value, or undefined when the scrape has no such sample. */
  get(sample: string): number | undefined {
    return this.#samples.get(sample);
  }

  /** A sample's value; a sample that is not there is 0 (a counter not yet counted). */
  count(sample: string): number {
    return this.#samples.get(sample) ?? 0;
  }
}
