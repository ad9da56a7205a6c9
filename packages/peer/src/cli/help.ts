import { readFileSync } from 'node:fs';
import { optionLines } from './flag-table.js';
import { OPTIONS, SECRETS } from './options.js';

/** The `--help` text, built from the option table so that it cannot drift from it. */
export function usage(): string {
  const { lines, width } = optionLines(Object.values(OPTIONS));
  const secrets = Object.values(SECRETS).map(
    ({ env, fileEnv, help }) => `  ${env.padEnd(width)}${help}\n  ${''.padEnd(width)}(or in the file ${fileEnv} names)`,
  );
  return `Usage: peer [flags]

Runs a peer-to-peer messenger peer with a chat in this terminal (or as a daemon).
Flags win over environment variables; list variables (P2PM_PEERS, P2PM_ADVERTISE)
are comma-separated.

Flags:
${lines.join('\n')}

Environment only (secrets: flags would show in ps):
${secrets.join('\n')}

Examples:
  Two peers on one machine (start alice, then bob pointed at alice's greeting port):
    peer --name alice --data-dir /tmp/alice --greeting-port 7400 --secure-port 7401
    peer --name bob --data-dir /tmp/bob --greeting-port 7410 --secure-port 7411 --peer 127.0.0.1:7400

  A daemon on free ports, logging to stderr:
    P2PM_NAME=carol peer --greeting-port 0 --secure-port 0 --log-file - --no-interactive

In the chat, type /help for the commands.
`;
}

/** The package version, read next to the compiled code (dist/cli -> package.json). */
export function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const value = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  return typeof value === 'string' ? value : 'unknown';
}
