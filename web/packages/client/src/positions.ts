// Which positions have been delivered already, so a replay overlapping live delivery (or a
// resubscribe after a reconnect) hands each event to listeners once.
export class SeenPositions {
  private readonly seen = new Set<number>();

  constructor(private readonly capacity = 50_000) {}

  /** True the first time `position` is offered, false for every repeat. */
  add(position: number): boolean {
    if (this.seen.has(position)) return false;
    this.seen.add(position);
    if (this.seen.size > this.capacity) this.forgetOldest();
    return true;
  }

  // Positions only grow, so the oldest half is the one no replay will repeat.
  private forgetOldest(): void {
    const sorted = [...this.seen].sort((a, b) => a - b);
    for (const p of sorted.slice(0, sorted.length >> 1)) this.seen.delete(p);
  }
}
