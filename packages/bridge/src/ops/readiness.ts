import type { LinkState } from '../federation/link-state.js';

/** Whether the bridge can do its job now, and if not, why (what /readyz answers). */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** What readiness is judged from: null while the bridge is still starting. */
export interface ReadinessSource {
  /** The links it dials (--join) and those dialed to it. */
  linkStates(): LinkState[];
}

/**
 * Ready once started and, for a bridge that joins others, once at least one of its links is
 * up: a joining bridge without a link reaches no other network.
 */
export function readinessOf(bridge: ReadinessSource | null, stopping: boolean): Readiness {
  if (stopping) return { ready: false, reason: 'stopping' };
  if (!bridge) return { ready: false, reason: 'starting' };
  const states = bridge.linkStates();
  const dialed = states.filter((state) => state.role === 'dialer');
  if (dialed.length === 0 || states.some((state) => state.up)) return { ready: true };
  const why = dialed
    .map((state) => `${state.bridgeId}: ${state.lastError ?? 'not linked yet'} (${state.attempts} attempts)`)
    .join('; ');
  return { ready: false, reason: `no link up to the bridges it joins: ${why}` };
}
