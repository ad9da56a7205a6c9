/** Milliseconds per unit of Go's `time.ParseDuration`, which Consul uses for `wait`, `TTL` and the like. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

// Longer units first, so that "ms" is not read as "m" followed by garbage.
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses a Go duration ("300ms", "1m30s", "0") into milliseconds; undefined when Go would reject it. */
export function parseGoDuration(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body === '') return undefined;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    PART.lastIndex = at;
    const part = PART.exec(body);
    const perUnit = part?.[2] === undefined ? undefined : UNIT_MS[part[2]];
    if (!part || perUnit === undefined) return undefined;
    total += Number(part[1]) * perUnit;
    at = PART.lastIndex;
  }
  return sign * total;
}
