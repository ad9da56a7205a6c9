import { DispatcherConfigError } from '../errors.js';
import { DEFAULTS, type OptionKey } from './options.js';
import type { Setting } from './setting-values.js';

type Lookup = (key: OptionKey) => Setting | undefined;

export type CatalogChoice =
  | { readonly kind: 'embedded' }
  | {
      readonly kind: 'consul';
      readonly agent: string;
      /** The agent as the peers reach it: they register there, and find each other through it. */
      readonly peersAgent: string;
    };

function kindOf<K extends string>(setting: Setting | undefined, kinds: readonly K[]): K {
  const value = (setting?.value.trim() || kinds[0]) as K;
  if (!kinds.includes(value)) {
    throw new DispatcherConfigError(
      `${setting?.from} must be ${kinds.join(' or ')}, got ${JSON.stringify(setting?.value)}`,
    );
  }
  return value;
}

/** A Consul agent address as CONSUL_HTTP_ADDR takes it: host:port, or an http(s) URL of the agent. */
function agentOf(setting: Setting | undefined): string {
  const value = setting?.value.trim() || DEFAULTS.consul;
  const withScheme = /^https?:\/\//.test(value) ? value : `http://${value}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
  if (!url?.hostname || url.pathname !== '/' || url.search || url.username) {
    throw new DispatcherConfigError(
      `${setting?.from} must be the Consul agent as host:port or http(s)://host:port (e.g. consul:8500), got ${JSON.stringify(setting?.value)}`,
    );
  }
  return url.origin;
}

export function catalogOf(one: Lookup): CatalogChoice {
  const kind = kindOf(one('catalog'), ['embedded', 'consul'] as const);
  const peersConsul = one('peersConsul');
  if (kind === 'embedded') {
    if (peersConsul) throw new DispatcherConfigError(`${peersConsul.from} goes with --catalog consul`);
    return Object.freeze({ kind });
  }
  const agent = agentOf(one('consul'));
  return Object.freeze({ kind, agent, peersAgent: peersConsul ? agentOf(peersConsul) : agent });
}
