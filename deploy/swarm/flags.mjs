// The flags of `pnpm swarm:up` and `swarm:down`, checked before anything touches the engine.
import { parseArgs } from 'node:util';
import { DOCKER_NAME, UsageError } from './engine.mjs';

/** flag -> [parseArgs type, default (undefined: none), help]. */
const COMMON = {
  stack: ['string', 'p2pm', 'the stack’s name'],
  timeout: ['string', '180', 'seconds to wait (for the dispatcher to be ready, containers to go)'],
  help: ['boolean', undefined, 'show this help'],
};

/** The defaults of the flags that stand for stack.local.yml's variables are those variables, if set. */
const env = process.env;

export const UP_FLAGS = {
  ...COMMON,
  port: ['string', env.PUBLISHED_PORT || '8080', 'the dispatcher’s port on this host [PUBLISHED_PORT]'],
  pool: ['string', env.POOL_NAME || 'local', 'the pool: the label of the peer services it starts [POOL_NAME]'],
  network: ['string', env.PEERS_NETWORK || 'p2pm-peers', 'the overlay network of it and its peers [PEERS_NETWORK]'],
  'no-build': ['boolean', undefined, 'use the images already built (pnpm images)'],
};

export const DOWN_FLAGS = {
  ...COMMON,
  pool: [
    'string',
    undefined,
    'the pool whose peer services to remove (default: the deployed dispatcher’s, else local)',
  ],
  purge: ['boolean', undefined, 'remove the volumes (users’ data), configs and secrets of the pool too'],
};

/** The flags as values; a UsageError naming the flag for anything unknown or malformed. */
export function parseFlags(argv, flags) {
  const options = Object.fromEntries(
    Object.entries(flags).map(([flag, [type, fallback]]) => [
      flag,
      fallback === undefined ? { type } : { type, default: fallback },
    ]),
  );
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  for (const flag of ['stack', 'pool', 'network']) {
    if (values[flag] !== undefined && !DOCKER_NAME.test(values[flag])) {
      throw new UsageError(`--${flag} must be 1-63 letters, digits or . _ - (a Docker name), got "${values[flag]}"`);
    }
  }
  const timeoutS = Number(values.timeout);
  if (!Number.isInteger(timeoutS) || timeoutS < 1) {
    throw new UsageError(`--timeout must be a whole number of seconds, got "${values.timeout}"`);
  }
  const parsed = { ...values, timeoutMs: timeoutS * 1000 };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65_535) {
      throw new UsageError(`--port must be a port number 1-65535, got "${values.port}"`);
    }
    parsed.port = port;
  }
  return parsed;
}

export function usage(command, flags) {
  const lines = Object.entries(flags).map(([flag, [type, fallback, help]]) => {
    const left = `--${flag}${type === 'string' ? ' VALUE' : ''}`;
    return `  ${left.padEnd(18)} ${help}${fallback === undefined ? '' : ` (default ${fallback})`}`;
  });
  return `Usage: pnpm swarm:${command} [flags]\n\n${lines.join('\n')}\n`;
}
