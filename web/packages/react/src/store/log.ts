// A bounded, position-sorted event log with its folded view. Appending the newest event is
// one fold step and an amortised O(1) push (the log is mutated in place; each change bumps
// `version`, so readers copy it only when they render). A late event (a replay arriving after
// live ones) is inserted in place and the view refolded from `base`. Past `cap` events the
// oldest are folded into `base` and dropped: the view keeps what they did.
import type { FlowEvent } from "@flowmaestro/client";

export type Apply<V> = (view: V, event: FlowEvent) => V;

export class EventLog<V> {
  view: V;
  /** The fold of every event no longer kept (and of an HTTP snapshot, when one was taken). */
  base: V;
  /** Events at or before this position are inside `base`: a repeat of one is ignored. */
  basePosition = -1;
  /** Bumped on every change. */
  version = 0;
  private items: FlowEvent[] = [];
  // Dropped events are skipped by moving `head`; the array is compacted when half is dead.
  private head = 0;
  private copy: { version: number; events: readonly FlowEvent[] } | null = null;

  constructor(
    private readonly apply: Apply<V>,
    initial: V,
    private readonly cap = Infinity,
  ) {
    this.view = initial;
    this.base = initial;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** The kept events, oldest first (a copy made at most once per version). */
  events(): readonly FlowEvent[] {
    if (this.copy?.version !== this.version) {
      this.copy = { version: this.version, events: this.items.slice(this.head) };
    }
    return this.copy.events;
  }

  /** Add `event`; false when it changed nothing (a duplicate, or inside `base`). */
  ingest(event: FlowEvent): boolean {
    const { position } = event;
    if (position !== null && position <= this.basePosition) return false;
    const last = this.items[this.items.length - 1];
    if (position === null || this.length === 0 || (last?.position ?? 0) < position) {
      this.items.push(event);
      this.view = this.apply(this.view, event);
    } else {
      const at = this.lowerBound(position);
      if (this.items[at]?.position === position) return false;
      this.items.splice(at, 0, event);
      this.refold();
    }
    this.version += 1;
    this.trim();
    return true;
  }

  /** Start over from `base` (an HTTP snapshot as of `position`): kept events up to it are
   * dropped, later ones refolded onto it. */
  rebase(base: V, position: number): void {
    this.base = base;
    this.basePosition = Math.max(this.basePosition, position);
    this.items = this.items.slice(this.lowerBound(position + 1));
    this.head = 0;
    this.refold();
    this.version += 1;
  }

  /** Forget the kept events `drop` says (their effect stays in the view); e.g. an agent's
   * tokens once its full response has arrived. */
  forget(drop: (event: FlowEvent) => boolean): void {
    const kept = this.items.slice(this.head).filter((e) => !drop(e));
    if (kept.length === this.length) return;
    this.items = kept;
    this.head = 0;
    this.version += 1;
  }

  private trim(): void {
    while (this.length > this.cap) {
      const oldest = this.items[this.head] as FlowEvent;
      this.head += 1;
      this.base = this.apply(this.base, oldest);
      if (oldest.position !== null) this.basePosition = Math.max(this.basePosition, oldest.position);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private refold(): void {
    let view = this.base;
    for (let i = this.head; i < this.items.length; i += 1) view = this.apply(view, this.items[i] as FlowEvent);
    this.view = view;
  }

  private lowerBound(position: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.items[mid]?.position ?? 0) < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
