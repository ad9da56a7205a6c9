import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '@p2p-messenger/peer';
import { OPTIONS, type OptionKey } from './options.js';

/** The flags as given: every value of each, in order (booleans have the value ''). */
export type FlagValues = Map<OptionKey, string[]>;

const KEY_BY_FLAG = new Map<string, OptionKey>(
  (Object.keys(OPTIONS) as OptionKey[]).map((key) => [OPTIONS[key].flag, key]),
);

const PARSE_OPTIONS: ParseArgsConfig['options'] = Object.fromEntries(
  Object.values(OPTIONS).map((spec) => [
    spec.flag,
    {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      multiple: spec.kind === 'list',
      ...('short' in spec ? { short: spec.short } : {}),
    },
  ]),
);

/** Reads the flags token by token, so that every mistake gets its own message. */
export function readFlags(argv: readonly string[]): FlagValues {
  const { tokens } = parseArgs({
    args: [...argv],
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: FlagValues = new Map();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(token.value)}: bridge takes only flags`);
    }
    const key = KEY_BY_FLAG.get(token.name);
    if (!key) throw new ConfigError(`unknown flag ${token.rawName}`);
    const spec = OPTIONS[key];
    const value = token.value ?? '';
    if (spec.kind === 'boolean') {
      if (token.value !== undefined) throw new ConfigError(`${token.rawName} takes no value`);
    } else if (token.value === undefined || (!token.inlineValue && value.startsWith('--'))) {
      throw new ConfigError(`${token.rawName} needs a value, e.g. --${spec.flag} ${spec.example}`);
    }
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return values;
}
