import { readFileSync } from 'node:fs';
import { ConfigError, type Setting } from '@p2p-messenger/peer';
import { COMMAND_ONLY, OPTIONS, type OptionKey } from './options.js';

/** A config file's settings, each as the text a flag would carry (lists as several). */
export type FileSettings = Map<OptionKey, Setting[]>;

const KEYS = (Object.keys(OPTIONS) as OptionKey[]).filter((key) => !COMMAND_ONLY.includes(key));

/**
 * Reads a JSON config file: an object whose keys are the flags' names in camelCase. Unknown
 * keys and values of the wrong type are errors naming the key and the file.
 */
export function readConfigFile(path: string, from: string): FileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${from}: cannot read the config file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the config file ${path} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`the config file ${path} must hold a JSON object, e.g. {"name": "home", "lan": true}`);
  }
  const settings: FileSettings = new Map();
  for (const [key, value] of Object.entries(parsed)) {
    const known = KEYS.find((k) => k === key);
    if (!known) {
      throw new ConfigError(
        `unknown key ${JSON.stringify(key)} in the config file ${path}; the keys are: ${KEYS.join(', ')}`,
      );
    }
    const at = `"${key}" in ${path}`;
    const values = valuesOf(known, value, at, path);
    if (values.length > 0)
      settings.set(
        known,
        values.map((v) => ({ value: v, from: at })),
      );
  }
  return settings;
}

function valuesOf(key: OptionKey, value: unknown, at: string, path: string): string[] {
  const spec = OPTIONS[key];
  const wrong = (what: string) =>
    new ConfigError(
      `the key ${JSON.stringify(key)} in the config file ${path} must be ${what}, got ${JSON.stringify(value)}`,
    );
  switch (spec.json) {
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('true or false');
      return value ? [''] : [];
    case 'strings':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        throw wrong(`a list of strings, e.g. [${JSON.stringify(spec.example)}]`);
      }
      return value;
    case 'port':
    case 'number':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong(`a whole number, e.g. ${spec.example}`);
      return [String(value)];
    case 'string':
      if (typeof value !== 'string') throw wrong(`a string, e.g. ${JSON.stringify(spec.example)}`);
      return [value];
  }
  throw new ConfigError(`${at}: unsupported`);
}
