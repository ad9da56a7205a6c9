import { DispatcherConfigError } from '../errors.js';
import { DEFAULTS, type OptionKey } from './options.js';
import { type Setting, urlOf } from './setting-values.js';

type Lookup = (key: OptionKey) => Setting | undefined;

/**
 * How users reach their peer: through the dispatcher's own proxy (`/p/<peerId>/`), or through
 * Traefik, a host per peer (`<peerId>.<peersDomain>`), routed by labels on the peer's Swarm service.
 */
export type RouterChoice =
  | { readonly kind: 'embedded' }
  | {
      readonly kind: 'traefik';
      readonly peersDomain: string;
      /** Traefik's entry point as the dispatcher reaches it (an origin), to check that a route answers. */
      readonly traefikUrl: string;
      readonly entrypoints: readonly string[];
    };

const TRAEFIK_ONLY = ['peersDomain', 'traefikUrl', 'traefikEntrypoints'] as const;
/** Room for `<peerId>.` (32 characters and a dot) in a 253-character host name. */
const MAX_DOMAIN_LENGTH = 253 - 33;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Traefik's entry point names as its static configuration takes them. */
const ENTRYPOINT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function routerOf(one: Lookup): RouterChoice {
  const kind = one('router');
  const value = kind?.value.trim() || 'embedded';
  if (value === 'embedded') {
    const stray = TRAEFIK_ONLY.map(one).find(Boolean);
    if (stray) throw new DispatcherConfigError(`${stray.from} goes with --router traefik`);
    return Object.freeze({ kind: 'embedded' });
  }
  if (value !== 'traefik') {
    throw new DispatcherConfigError(`${kind?.from} must be embedded or traefik, got ${JSON.stringify(kind?.value)}`);
  }
  if (one('orchestrator')?.value.trim() !== 'swarm') {
    throw new DispatcherConfigError(
      `${kind?.from} traefik needs --orchestrator swarm (Traefik finds peers by the labels of their Swarm services)`,
    );
  }
  const traefikUrl = urlOf(one('traefikUrl'), 'http://traefik:80');
  if (!traefikUrl) {
    throw new DispatcherConfigError(
      `${kind?.from} traefik needs --traefik-url (or P2PM_TRAEFIK_URL): where the dispatcher reaches Traefik, e.g. http://traefik:80`,
    );
  }
  return Object.freeze({
    kind: 'traefik',
    peersDomain: peersDomainOf(one('peersDomain'), kind?.from ?? '--router'),
    traefikUrl,
    entrypoints: entrypointsOf(one('traefikEntrypoints')),
  });
}

function peersDomainOf(setting: Setting | undefined, routerFrom: string): string {
  if (!setting) {
    throw new DispatcherConfigError(
      `${routerFrom} traefik needs --peers-domain (or P2PM_PEERS_DOMAIN): peers are then at <peerId>.<domain>, e.g. peers.chat.example.org`,
    );
  }
  const domain = setting.value.trim().toLowerCase().replace(/\.$/, '');
  if (domain.length > MAX_DOMAIN_LENGTH || !domain.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new DispatcherConfigError(
      `${setting.from} must be a DNS name (letters, digits, hyphens, dots; at most ${MAX_DOMAIN_LENGTH} characters) such as peers.chat.example.org, got ${JSON.stringify(setting.value)}`,
    );
  }
  return domain;
}

function entrypointsOf(setting: Setting | undefined): readonly string[] {
  const names = (setting?.value ?? DEFAULTS.traefikEntrypoints).split(',').map((name) => name.trim());
  const wrong = names.find((name) => !ENTRYPOINT.test(name));
  if (wrong !== undefined) {
    throw new DispatcherConfigError(
      `${setting?.from} must list Traefik entry point names, comma-separated (e.g. web,websecure); ${JSON.stringify(wrong)} is not one`,
    );
  }
  return Object.freeze([...new Set(names)]);
}
