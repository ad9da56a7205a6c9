import { DispatcherConfigError } from '../errors.js';

/** One setting as given, and where it came from (a flag or a variable), for messages. */
export interface Setting {
  value: string;
  from: string;
}

/** A Docker object name (also a safe Consul KV path segment). */
export function dockerName(setting: Setting | undefined, fallback: string): string {
  const value = setting?.value.trim() || fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(value)) {
    throw new DispatcherConfigError(
      `${setting?.from} must be 1-63 letters, digits or . _ - (a Docker name), got ${JSON.stringify(setting?.value)}`,
    );
  }
  return value;
}

/** An http(s) URL of a site root (no path), as its origin. */
export function urlOf(setting: Setting | undefined, example: string): string | null {
  if (!setting) return null;
  let url: URL;
  try {
    url = new URL(setting.value.trim());
  } catch {
    throw new DispatcherConfigError(
      `${setting.from} must be a URL such as ${example}, got ${JSON.stringify(setting.value)}`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash) {
    throw new DispatcherConfigError(
      `${setting.from} must be an http(s) URL of a site root (no path), got ${JSON.stringify(setting.value)}`,
    );
  }
  return url.origin;
}
