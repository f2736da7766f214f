// An event log kept sorted by position with no duplicate position. Views fold it; a late
// event (a replay arriving after live ones) is inserted in place and the view refolded.
import type { FlowEvent } from "../sdk/events";

export interface Folded<V> {
  view: V;
  events: FlowEvent[];
}

function lowerBound(events: FlowEvent[], position: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid]?.position ?? 0) < position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Add `event` to `log`: unchanged for a duplicate position, one fold step when it is the
 * newest (the common case), a refold from `initial` when it is older than the newest.
 */
export function ingest<V>(
  log: Folded<V>,
  event: FlowEvent,
  apply: (view: V, event: FlowEvent) => V,
  initial: () => V,
): Folded<V> {
  const { events } = log;
  const last = events[events.length - 1];
  if (event.position === null || last === undefined || (last.position ?? 0) < event.position) {
    return { view: apply(log.view, event), events: [...events, event] };
  }
  const at = lowerBound(events, event.position);
  if (events[at]?.position === event.position) return log;
  return fold([...events.slice(0, at), event, ...events.slice(at)], apply, initial);
}

export function fold<V>(
  events: FlowEvent[],
  apply: (view: V, event: FlowEvent) => V,
  initial: () => V,
): Folded<V> {
  return { view: events.reduce(apply, initial()), events };
}
