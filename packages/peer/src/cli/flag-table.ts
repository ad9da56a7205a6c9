import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import type { OptionSpec } from './options.js';

/**
 * Reads a command's flags token by token against its option table, so that every mistake
 * gets its own message: every value of each option, in order (booleans have the value '').
 * `command` names the command in messages.
 */
export function readFlagsOf<K extends string>(
  argv: readonly string[],
  options: Readonly<Record<K, OptionSpec>>,
  command: string,
): Map<K, string[]> {
  const keys = Object.keys(options) as K[];
  const keyByFlag = new Map<string, K>(keys.map((key) => [options[key].flag, key]));
  const parseOptions: ParseArgsConfig['options'] = Object.fromEntries(
    keys.map((key) => {
      const spec = options[key];
      const type = spec.kind === 'boolean' ? 'boolean' : 'string';
      return [spec.flag, { type, multiple: spec.kind === 'list', ...(spec.short ? { short: spec.short } : {}) }];
    }),
  );
  const { tokens } = parseArgs({
    args: [...argv],
    options: parseOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<K, string[]>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(token.value)}: ${command} takes only flags`);
    }
    const key = keyByFlag.get(token.name);
    if (!key) throw new ConfigError(`unknown flag ${token.rawName}`);
    const spec = options[key];
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

/** The --help lines of an option table (flag, help, variable and default), and the flags' column width. */
export function optionLines(specs: readonly OptionSpec[]): { lines: string[]; width: number } {
  const left = specs.map((spec) => {
    const short = spec.short ? `-${spec.short}, ` : '';
    return `${short}--${spec.flag}${spec.arg ? ` ${spec.arg}` : ''}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = specs.map((spec, i) => {
    const details = [spec.env ? `env ${spec.env}` : '', spec.shown ? `default ${spec.shown}` : '']
      .filter(Boolean)
      .join('; ');
    const head = `  ${(left[i] ?? '').padEnd(width)}${spec.help}`;
    return details ? `${head}\n  ${''.padEnd(width)}(${details})` : head;
  });
  return { lines, width };
}
