"use client";
import { useFlowMaestro, useFlowState } from "./context.js";

/** The shared connection: its state (connecting, connected, reconnecting, offline) and error. */
export function useWebSocket() {
  const { client } = useFlowMaestro();
  const { state, error } = useFlowState((s) => s.connection);
  return { client, state, error, connected: state === "connected" };
}
