// Who else watches a channel (by user): the subscribe ack's `presence`, then the
// `presence:join` / `presence:leave` events the gateways send as that changes.
import { Listeners } from "./emitter.js";
import type { PresenceChange } from "./events.js";

const NOBODY: readonly string[] = Object.freeze([]);

export class PresenceBook {
  private readonly watching = new Map<string, readonly string[]>();
  private readonly listeners = new Listeners<[string, readonly string[]]>();

  /** Who else watches `channel` (empty when unknown or for a channel without presence). */
  of(channel: string): readonly string[] {
    return this.watching.get(channel) ?? NOBODY;
  }

  onChange(listener: (channel: string, users: readonly string[]) => void): () => void {
    return this.listeners.add(listener);
  }

  /** A subscribe ack: its list replaces what was known (null: the channel has none). */
  acked(channel: string, users: string[] | null): void {
    if (users === null) return;
    this.set(channel, [...new Set(users)].sort());
  }

  /** A `presence:*` message; false when `name` is not one. */
  message(name: string, payload: unknown): boolean {
    if (name !== "presence:join" && name !== "presence:leave") return false;
    const change = payload as Partial<PresenceChange> | null;
    if (typeof change?.channel !== "string" || typeof change.userId !== "string") return true;
    const users = new Set(this.of(change.channel));
    if (name === "presence:join") users.add(change.userId);
    else users.delete(change.userId);
    this.set(change.channel, [...users].sort());
    return true;
  }

  forget(channel: string): void {
    if (this.watching.delete(channel)) this.listeners.emit(channel, NOBODY);
  }

  private set(channel: string, users: readonly string[]): void {
    const before = this.of(channel);
    if (before.length === users.length && before.every((u, i) => u === users[i])) return;
    this.watching.set(channel, users);
    this.listeners.emit(channel, users);
  }
}
