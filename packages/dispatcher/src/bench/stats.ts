// The peer package keeps its bench helpers internal (not exported), so the dispatcher's
// benchmark has its own copy of the few it needs.

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** One figure, as one JSON line on stdout (see shared/BENCHMARKS.md). */
export function printFigure(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  params?: Record<string, unknown>,
): void {
  const rounded = Math.round(value * 100) / 100;
  process.stdout.write(`${JSON.stringify({ bench, metric, value: rounded, unit, ...(params ? { params } : {}) })}\n`);
}

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
