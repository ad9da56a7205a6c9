import { MULTICAST_DEFAULTS } from '@p2p-messenger/discovery';
import type { DiscoverySettings } from '../discovery/discovery-options.js';
import { ConfigError } from '../errors.js';
import {
  parseCatalogToken,
  parseCatalogUrl,
  parseChoice,
  parseConsulAgent,
  parseConsulKeyPrefix,
  parseInterfaceName,
  parseMilliseconds,
  parseMulticastGroup,
  parseName,
  parsePort,
  type Setting,
} from './config-values.js';
import { DEFAULTS, MULTICAST_FAMILIES, OPTIONS, type OptionKey, SECRETS, type SecretKey } from './options.js';

const ANNOUNCE_INTERVAL_RANGE_MS = [100, 600_000] as const;

/** How the command line's settings are read (flags win over the environment). */
export interface SettingSource {
  one(key: OptionKey): Setting | undefined;
  list(key: OptionKey): Setting[];
  /** From the environment only. */
  secret(key: SecretKey): Setting | undefined;
  noMulticast: boolean;
}

/** The discovery settings: multicast unless turned off, Consul and the catalog when given. */
export function discoveryOf(
  { one, list, secret, noMulticast }: SettingSource,
  advertise: readonly string[],
): DiscoverySettings {
  const settings: DiscoverySettings = {};
  if (!noMulticast) {
    const family = parseChoice(one('multicastFamily'), MULTICAST_FAMILIES) ?? DEFAULTS.multicastFamily;
    const interfaces = list('multicastInterface').map(parseInterfaceName);
    settings.multicast = {
      families: family === 'both' ? ['ipv4', 'ipv6'] : [family],
      ...(interfaces.length > 0 ? { interfaces } : {}),
      ...optional('port', parsePort(one('multicastPort'))),
      ...optional('ipv4Group', parseMulticastGroup(one('multicastGroupV4'), 4)),
      ...optional('ipv6Group', parseMulticastGroup(one('multicastGroupV6'), 6)),
      ...optional('intervalMs', parseMilliseconds(one('announceInterval'), ...ANNOUNCE_INTERVAL_RANGE_MS)),
      ...optional('expiryMs', parseMilliseconds(one('peerExpiry'), ...ANNOUNCE_INTERVAL_RANGE_MS)),
    };
    const { intervalMs = MULTICAST_DEFAULTS.intervalMs, expiryMs } = settings.multicast;
    if (expiryMs !== undefined && expiryMs <= intervalMs) {
      throw new ConfigError(
        `--peer-expiry (${expiryMs} ms) must be longer than the announce interval (${intervalMs} ms): a few intervals`,
      );
    }
  }
  const agent = parseConsulAgent(one('consul'));
  const visibleKeys = one('consulVisibleKeys');
  if (visibleKeys && !agent) throw new ConfigError(`${visibleKeys.from} goes with --consul (or CONSUL_HTTP_ADDR)`);
  if (agent) {
    if (advertise.length === 0) {
      throw new ConfigError('--consul needs --advertise HOST: the address other peers reach this one at');
    }
    const service = one('consulService');
    settings.consul = {
      agent,
      advertiseAddress: advertise[0] as string,
      tags: list('consulTag').map((s) => parseName(s)),
      ...optional('serviceName', service ? parseName(service) : undefined),
      ...optional('visibleKeys', visibleKeys ? parseConsulKeyPrefix(visibleKeys) : undefined),
    };
  }
  const url = parseCatalogUrl(one('catalog'));
  const token = parseCatalogToken(secret('catalogToken'));
  if (token && !url) {
    throw new ConfigError(
      `${SECRETS.catalogToken.env} is set but no catalog is: pass --catalog URL (or set ${OPTIONS.catalog.env})`,
    );
  }
  if (url) settings.catalog = { url, ...optional('token', token) };
  return settings;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
