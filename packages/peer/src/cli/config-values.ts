import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseHostPort } from '../util/address.js';
import { MAX_MESSAGE_BYTES_LIMIT, MAX_NAME_LENGTH, SECRETS } from './options.js';

/** Validators for single configuration values; each error names the flag or variable at fault. */

/** A raw value and where it came from (`--flag` or `ENV_VAR`), for error messages. */
export interface Setting {
  value: string;
  from: string;
}

export function parseName(setting: Setting): string {
  const value = setting.value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (value.length < 1 || value.length > MAX_NAME_LENGTH || /[/\\\u0000-\u001f\u007f]/.test(value)) {
    throw new ConfigError(
      `${setting.from} must be 1-${MAX_NAME_LENGTH} characters without "/", "\\" or control characters, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

export function parsePath(setting: Setting, homedir: string): string {
  const value = setting.value.trim();
  if (!value) throw new ConfigError(`${setting.from} must be a path, got ${JSON.stringify(setting.value)}`);
  const expanded = value === '~' || value.startsWith('~/') ? join(homedir, value.slice(1)) : value;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

export function parsePort(setting: Setting | undefined): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new ConfigError(`${setting.from} must be a port number 0-65535, got ${JSON.stringify(setting.value)}`);
  }
  return Number(value);
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseHost(setting: Setting, what: string): string {
  const value = setting.value.trim();
  if (!isIP(value) && !HOST_NAME.test(value)) {
    throw new ConfigError(`${setting.from} must be ${what}, got ${JSON.stringify(setting.value)}`);
  }
  return value;
}

export function parsePeerAddress(setting: Setting): string {
  const address = parseHostPort(setting.value);
  if (!address) {
    throw new ConfigError(
      `${setting.from} must be host:port, the greeting address of another peer (e.g. 127.0.0.1:7400), got ${JSON.stringify(setting.value)}`,
    );
  }
  return setting.value.trim();
}

export function parseChoice<T extends string>(setting: Setting | undefined, choices: readonly T[]): T | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim().toLowerCase();
  const choice = choices.find((c) => c === value);
  if (!choice) {
    throw new ConfigError(`${setting.from} must be one of ${choices.join(', ')}, got ${JSON.stringify(setting.value)}`);
  }
  return choice;
}

export function parseByteCount(setting: Setting | undefined): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || bytes < 1 || bytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw new ConfigError(
      `${setting.from} must be a whole number of bytes from 1 to ${MAX_MESSAGE_BYTES_LIMIT}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return bytes;
}

export function parseMulticastGroup(setting: Setting | undefined, family: 4 | 6): string | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const ok =
    family === 4 ? isIP(value) === 4 && /^2(2[4-9]|3\d)\./.test(value) : isIP(value) === 6 && /^ff/i.test(value);
  if (!ok) {
    const range =
      family === 4 ? 'an IPv4 multicast address (224.0.0.0-239.255.255.255)' : 'an IPv6 multicast address (ff00::/8)';
    throw new ConfigError(`${setting.from} must be ${range}, got ${JSON.stringify(setting.value)}`);
  }
  return value;
}

export function parseMilliseconds(setting: Setting | undefined, min: number, max: number): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < min || ms > max) {
    throw new ConfigError(
      `${setting.from} must be a whole number of milliseconds from ${min} to ${max}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return ms;
}

/** A Consul agent: host:port, or an http(s) URL. */
export function parseConsulAgent(setting: Setting | undefined): string | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  if (/^https?:\/\/[^\s/]+(:\d{1,5})?\/?$/.test(value) || parseHostPort(value)) return value;
  throw new ConfigError(
    `${setting.from} must be the Consul agent's host:port or URL (e.g. 127.0.0.1:8500), got ${JSON.stringify(setting.value)}`,
  );
}

/** A Consul KV path prefix: printable, without spaces, not starting with "/" (Consul's keys do not). */
export function parseConsulKeyPrefix(setting: Setting): string {
  const value = setting.value.trim();
  if (!/^[\x21-\x7e]{1,512}$/.test(value) || value.startsWith('/')) {
    throw new ConfigError(
      `${setting.from} must be a Consul KV prefix (printable, no spaces, not starting with "/"), e.g. p2p-messenger/pools/default/claimed/, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

/** The dispatcher's catalog: an http(s) URL, without credentials (the token has its own variable). */
export function parseCatalogUrl(setting: Setting | undefined): string | undefined {
  return parseHttpUrl(setting, "the catalog's http(s) URL (e.g. http://10.0.0.2:7600)", {
    credentials: `set ${SECRETS.catalogToken.env} instead`,
  });
}

/**
 * An absolute http(s) URL without credentials (they would show in `ps`); `what` says what it
 * must be, `hint.credentials` what to do instead of credentials.
 */
export function parseHttpUrl(
  setting: Setting | undefined,
  what: string,
  hint: { credentials?: string } = {},
): string | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new ConfigError(`${setting.from} must be ${what}, got ${JSON.stringify(setting.value)}`);
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `${setting.from} must not carry credentials (they would show in ps)${hint.credentials ? `: ${hint.credentials}` : ''}`,
    );
  }
  return value;
}

/** A bearer token: it goes into a header, so printable ASCII without spaces. It is never echoed. */
export function parseCatalogToken(setting: Setting | undefined): string | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new ConfigError(`${setting.from} must be printable ASCII without spaces (the value is not shown)`);
  }
  return value;
}

const INTERFACE_NAME = /^[\w.:@-]{1,15}$/;

export function parseInterfaceName(setting: Setting): string {
  const value = setting.value.trim();
  if (!INTERFACE_NAME.test(value)) {
    throw new ConfigError(
      `${setting.from} must be a network interface name (e.g. eth0), got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}
