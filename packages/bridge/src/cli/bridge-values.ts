import { ConfigError, isPeerId, parseHost, parsePort, type Setting } from '@p2p-messenger/peer';
import type { JoinTarget } from '../federation/link-dialer.js';
import { EXAMPLE_FEDERATION_PORT, OPTIONS } from './options.js';

/** Validators of the bridge's own values; each error names the flag, variable or key at fault. */

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:@[\]\s]+)):([^:]*)$/;

/** `HOST:PORT` (`[v6]:PORT`), port 0 allowed: where to listen. */
export function parseListen(setting: Setting): { host: string; port: number } {
  const match = HOST_PORT.exec(setting.value.trim());
  const host = match?.[1] ?? match?.[2];
  if (!match || !host) {
    throw new ConfigError(
      `${setting.from} must be HOST:PORT, e.g. 0.0.0.0:${EXAMPLE_FEDERATION_PORT} or [::]:${EXAMPLE_FEDERATION_PORT}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return {
    host: parseHost({ value: host, from: setting.from }, 'an address to listen on, as in 0.0.0.0:7443'),
    port: parsePort({ value: match[3] ?? '', from: `the port of ${setting.from}` }) as number,
  };
}

/** A bridge id to trust: exactly what the other bridge printed when it started. */
export function parseTrustedId(setting: Setting): string {
  const value = setting.value.trim();
  if (!isPeerId(value)) {
    throw new ConfigError(
      `${setting.from} must be a bridge id (32 characters a-z and 2-7, as a bridge prints in its ready line, e.g. ${OPTIONS.trust.example}), got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

/** `ID@HOST:PORT`: the id is what the dialer checks the other bridge's key against. */
export function parseJoin(setting: Setting): JoinTarget {
  const value = setting.value.trim();
  const expected = `the expected form is ID@HOST:PORT, e.g. ${OPTIONS.join.example}`;
  const at = value.lastIndexOf('@');
  if (at < 0) {
    throw new ConfigError(
      `${setting.from} ${JSON.stringify(setting.value)} names no bridge id, so the bridge there could not be checked: ${expected} (the id is the one that bridge prints when it starts)`,
    );
  }
  const id = value.slice(0, at);
  if (!isPeerId(id)) {
    throw new ConfigError(
      `${setting.from} ${JSON.stringify(setting.value)} does not start with a bridge id (32 characters a-z and 2-7): ${expected}`,
    );
  }
  const match = HOST_PORT.exec(value.slice(at + 1));
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || !/^\d{1,5}$/.test(match[3] ?? '') || port < 1 || port > 65_535) {
    throw new ConfigError(
      `${setting.from} ${JSON.stringify(setting.value)} has no HOST:PORT after the id: ${expected}`,
    );
  }
  return {
    bridgeId: id,
    host: parseHost({ value: host, from: setting.from }, 'ID@HOST:PORT with a host name or address'),
    port,
  };
}

/** A whole number within bounds (limits, timeouts). */
export function parseCount(setting: Setting | undefined, min: number, max: number, unit: string): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(
      `${setting.from} must be a whole number of ${unit} from ${min} to ${max}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return n;
}

/** A boolean environment variable: 1/true/yes or 0/false/no. */
export function parseSwitch(setting: Setting): boolean {
  const value = setting.value.trim().toLowerCase();
  if (['1', 'true', 'yes', ''].includes(value)) return true;
  if (['0', 'false', 'no'].includes(value)) return false;
  throw new ConfigError(`${setting.from} must be true or false, got ${JSON.stringify(setting.value)}`);
}
