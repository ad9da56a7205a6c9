export interface BackoffInit {
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Exponential backoff with jitter: the n-th retry waits between half and all of
 * min(max, min * 2^n), so peers that lost each other at once do not retry in lockstep.
 */
export function backoffDelay(attempt: number, init: BackoffInit = {}, random = Math.random): number {
  const min = init.minDelayMs ?? 250;
  const max = init.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
