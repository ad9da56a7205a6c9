import { isIP } from 'node:net';
import type { DirectoryPeer, RelayRoute } from '../directory.js';
import { CatalogUnavailableError } from '../errors.js';

/**
 * The dispatcher's answer to `GET /peers`:
 * `{"index": 7, "peers": [{"id", "name", "addresses", "greetingPort", "securePort", "protocolVersion", "relays"?}]}`.
 * `relays` (a peer of another network, through the dispatcher's bridge) is a list of
 * `{"bridgeId", "host", "greetingPort", "securePort", "hops"}`; such a peer may have no
 * addresses of its own. Unknown fields are ignored, so that the dispatcher can add some.
 */
export interface CatalogAnswer {
  /** Changes whenever the catalog does; a blocking query waits for it to move past this. */
  index: number;
  peers: DirectoryPeer[];
  /** The entries left out, by position in the answer, with what was wrong with each. */
  dropped: { position: number; problem: string }[];
}

const MAX_NAME_LENGTH = 64;
const MAX_ADDRESSES = 16;
const MAX_RELAYS = 8;
/** Bridges between networks: more than this is a loop or a lie. */
const MAX_HOPS = 16;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * Reads an answer without trusting it: an entry that is not a usable peer is left out (and
 * said why); a body that is no catalog at all throws CatalogUnavailableError.
 */
export function parseCatalogAnswer(text: string, now: number): CatalogAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CatalogUnavailableError(`the catalog answered with something that is not JSON (${text.length} bytes)`);
  }
  if (!isRecord(body) || !Array.isArray(body.peers)) {
    throw new CatalogUnavailableError('the catalog answer has no "peers" list');
  }
  if (!Number.isSafeInteger(body.index) || (body.index as number) < 1) {
    throw new CatalogUnavailableError('the catalog answer has no positive whole "index"');
  }
  const peers: DirectoryPeer[] = [];
  const dropped: CatalogAnswer['dropped'] = [];
  const ids = new Set<string>();
  for (const [position, raw] of body.peers.entries()) {
    const entry = readEntry(raw, ids);
    if (typeof entry === 'string') {
      dropped.push({ position, problem: entry });
      continue;
    }
    ids.add(entry.id);
    peers.push({ ...entry, knownPeerIds: [], sources: ['catalog'], lastSeenMs: now });
  }
  return { index: body.index as number, peers, dropped };
}

/** A peer as a catalog's `/peers` answer lists it (the wire format both sides share). */
export type CatalogEntry = Omit<DirectoryPeer, 'knownPeerIds' | 'sources' | 'lastSeenMs'>;

/** The entry's fields, or what is wrong with it (`ids`: those of the entries before it). */
function readEntry(entry: unknown, ids: ReadonlySet<string>): CatalogEntry | string {
  if (!isRecord(entry)) return 'not an object';
  const { id, name, addresses, greetingPort, securePort, protocolVersion } = entry;
  if (!isId(id)) return 'malformed id';
  if (ids.has(id)) return 'duplicate id';
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_NAME_LENGTH) return 'malformed name';
  const relays = readRelays(entry.relays);
  if (typeof relays === 'string') return relays;
  const fewest = relays.length > 0 ? 0 : 1;
  if (!Array.isArray(addresses) || addresses.length < fewest || addresses.length > MAX_ADDRESSES) return 'no addresses';
  if (!addresses.every(isHost)) return 'malformed address';
  if (!isPort(greetingPort) || !isPort(securePort)) return 'port out of range';
  if (!Number.isSafeInteger(protocolVersion) || (protocolVersion as number) < 0) return 'malformed protocol version';
  return {
    id,
    name,
    addresses: [...addresses],
    greetingPort,
    securePort,
    protocolVersion: protocolVersion as number,
    ...(relays.length > 0 ? { relays } : {}),
  };
}

/** An entry's routes through bridges (none when absent), or what is wrong with them. */
function readRelays(relays: unknown): RelayRoute[] | string {
  if (relays === undefined) return [];
  if (!Array.isArray(relays) || relays.length > MAX_RELAYS) return 'malformed relays';
  const routes: RelayRoute[] = [];
  for (const relay of relays) {
    if (!isRecord(relay)) return 'malformed relays';
    const { bridgeId, host, greetingPort, securePort, hops } = relay;
    if (!isId(bridgeId) || !isHost(host) || !isPort(greetingPort) || !isPort(securePort)) return 'malformed relays';
    if (!Number.isSafeInteger(hops) || (hops as number) < 1 || (hops as number) > MAX_HOPS) return 'malformed relays';
    routes.push({ bridgeId, host, greetingPort, securePort, hops: hops as number });
  }
  return routes;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z2-7]{16,64}$/.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHost(value: unknown): value is string {
  return typeof value === 'string' && (isIP(value) !== 0 || HOST_NAME.test(value));
}

function isPort(port: unknown): port is number {
  return Number.isInteger(port) && (port as number) > 0 && (port as number) < 65_536;
}
