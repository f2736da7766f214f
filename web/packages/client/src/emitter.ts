// A minimal listener set: add returns its own removal.
export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...args: A) => void>();

  add(fn: (...args: A) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  emit(...args: A): void {
    for (const fn of [...this.fns]) fn(...args);
  }
}
