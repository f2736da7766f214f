// Reconnection delays: exponential growth, capped, with "full jitter" (anywhere from 0 to the
// ceiling) so that clients dropped together (a gateway restart or drain) spread their
// returns over the whole window instead of its upper half.
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/** The delay before reconnection attempt `attempt` (1-based); `random` returns [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return random() * ceiling;
}
