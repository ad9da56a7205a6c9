/** How a session reaches its peer: straight to the peer's own ports, or through a bridge. */
export type SessionPath = { kind: 'direct' } | { kind: 'bridge'; bridgeId: string };

export const DIRECT: SessionPath = Object.freeze({ kind: 'direct' });

export function viaBridge(bridgeId: string): SessionPath {
  return { kind: 'bridge', bridgeId };
}

/** "direct" or "bridge:<id>": compares paths, and names them in logs. */
export function pathKey(path: SessionPath | null): string {
  if (!path) return 'none';
  return path.kind === 'direct' ? 'direct' : `bridge:${path.bridgeId}`;
}

/**
 * The path each peer's latest greeting to us came by (a relayed greeting says which bridge
 * relayed it): the session that peer opens next comes the same way, since a dialer greets
 * right before it opens a session and does both over the same path.
 */
export class GreetingPaths {
  readonly #paths = new Map<string, SessionPath>();

  greeted(peerId: string, viaBridgeId: string): void {
    this.#paths.set(peerId, viaBridgeId ? viaBridge(viaBridgeId) : DIRECT);
  }

  of(peerId: string): SessionPath {
    return this.#paths.get(peerId) ?? DIRECT;
  }
}
