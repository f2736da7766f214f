"use client";
// Who else is watching a channel, by user, kept current by presence:join / presence:leave.
import { useCallback, useSyncExternalStore } from "react";
import { useFlowMaestro } from "./context.js";

const NOBODY: readonly string[] = Object.freeze([]);

export function usePresence(channel: string | null): readonly string[] {
  const { client } = useFlowMaestro();
  const subscribe = useCallback(
    (changed: () => void) => client.presence.onChange((c) => c === channel && changed()),
    [client, channel],
  );
  return useSyncExternalStore(subscribe, () => (channel === null ? NOBODY : client.presence.of(channel)));
}
