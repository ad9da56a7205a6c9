const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Traefik's static configuration takes it (paerser's Duration): a bare number
 * is seconds, anything else Go's time.ParseDuration syntax ("2s", "500ms", "1m30s").
 */
export function parseDuration(value: string, what: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1_000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    throw new Error(`${what}: ${JSON.stringify(value)} is not a duration (e.g. 2s, 500ms, 15)`);
  }
  return parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] as string] as number), 0);
}
