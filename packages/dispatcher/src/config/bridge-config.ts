import { isIP } from 'node:net';
import { isPeerId } from '@p2p-messenger/peer';
import { DispatcherConfigError } from '../errors.js';
import type { OptionKey } from './options.js';
import type { Setting } from './setting-values.js';

type Lookup = (key: OptionKey) => Setting | undefined;

/** The dispatcher's own bridge: where other bridges link to it, whom it lets in, where its peers reach it. */
export interface BridgeChoice {
  readonly listen: { readonly host: string; readonly port: number };
  readonly trust: readonly string[];
  /** The relay's address as the dispatcher's peers reach it; null: the host of --advertise-url, else loopback. */
  readonly relayHost: string | null;
}

const BRIDGE_ONLY = ['bridgeTrust', 'bridgeRelayHost'] as const;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function bridgeOf(one: Lookup): BridgeChoice | null {
  const listen = one('bridgeListen');
  if (!listen) {
    const stray = BRIDGE_ONLY.map(one).find(Boolean);
    if (stray) throw new DispatcherConfigError(`${stray.from} goes with --bridge-listen (or P2PM_BRIDGE_LISTEN)`);
    return null;
  }
  const trust = one('bridgeTrust');
  if (!trust) {
    throw new DispatcherConfigError(
      `${listen.from} needs --bridge-trust (or P2PM_BRIDGE_TRUST): the ids of the bridges that may link to this one (a bridge prints its id when it starts)`,
    );
  }
  const relayHost = one('bridgeRelayHost');
  return Object.freeze({
    listen: Object.freeze(hostPortOf(listen)),
    trust: Object.freeze(idsOf(trust)),
    relayHost: relayHost ? hostOf(relayHost) : null,
  });
}

function hostPortOf(setting: Setting): { host: string; port: number } {
  const value = setting.value.trim();
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || port > 65_535 || !(isIP(host) || HOST_NAME.test(host))) {
    throw new DispatcherConfigError(
      `${setting.from} must be HOST:PORT (e.g. 0.0.0.0:7443, [::]:7443), got ${JSON.stringify(setting.value)}`,
    );
  }
  return { host, port };
}

function idsOf(setting: Setting): string[] {
  const ids = setting.value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const wrong = ids.find((id) => !isPeerId(id));
  if (ids.length === 0 || wrong !== undefined) {
    throw new DispatcherConfigError(
      `${setting.from} must list bridge ids, comma-separated (each as its bridge prints it when it starts)${wrong === undefined ? '' : `; ${JSON.stringify(wrong)} is not one`}`,
    );
  }
  return [...new Set(ids)];
}

function hostOf(setting: Setting): string {
  const value = setting.value.trim();
  if (!(isIP(value) || HOST_NAME.test(value))) {
    throw new DispatcherConfigError(
      `${setting.from} must be a host name or an address, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}
