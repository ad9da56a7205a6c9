import { readFileSync } from 'node:fs';
import { optionLines } from '@p2p-messenger/peer';
import { OPTIONS } from './options.js';

/** The `--help` text, built from the option table so that it cannot drift from it. */
export function usage(): string {
  const { lines } = optionLines(Object.values(OPTIONS));
  return `Usage: bridge [flags]

Joins this network (a LAN, or the peers in a Consul catalog) to other networks through
federation links between bridges, so that their peers reach each other; the peers' TLS
sessions pass through unread.
Flags win over environment variables, which win over the config file; list variables
(P2PM_BRIDGE_TRUST, P2PM_BRIDGE_JOIN, P2PM_BRIDGE_INTERFACES) are comma-separated.
When ready, it prints one line: bridge <id> ready: ...

Flags:
${lines.join('\n')}

Examples:
  The cloud side, which bridges link to (trust the home bridge's id):
    bridge --lan --listen 0.0.0.0:7443 --trust ${OPTIONS.trust.example}

  The home side, which dials out (no port opened at home):
    bridge --lan --interface eth0 --join ${OPTIONS.join.example}

  The cloud side in a Swarm, where peers register in Consul (a dispatcher's pool "default"):
    bridge --consul consul:8500 --consul-service p2pm-peer-default \\
      --consul-visible-keys p2p-messenger/pools/default/claimed/ --advertise bridge \\
      --listen 0.0.0.0:7443 --trust ${OPTIONS.trust.example}

  The same from a file:
    bridge --config bridge.json     (bridge.json: {"lan": true, "join": ["ID@HOST:PORT"]})
`;
}

/** The package version, read next to the compiled code (dist/cli -> package.json). */
export function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const value = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  return typeof value === 'string' ? value : 'unknown';
}
