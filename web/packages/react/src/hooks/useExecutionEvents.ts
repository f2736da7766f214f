"use client";
import { type FlowEvent, executionChannel } from "@flowmaestro/client";
import { useEffect, useMemo } from "react";
import { emptyExecution, type ExecutionView, type NodeView } from "../store/execution.js";
import { useChannel, useFlowMaestro, useFlowState } from "./context.js";

const NO_EVENTS: readonly FlowEvent[] = [];

export interface ExecutionEventsOptions {
  /**
   * Replay the execution's whole retained history (for a timeline of every event). By
   * default the state starts from the HTTP snapshot and only later events are replayed.
   */
  history?: boolean;
}

export interface ExecutionEvents {
  /** The kept events, oldest first (at most the store's `maxEvents`; agent tokens are dropped
   * once their stream has ended). */
  events: readonly FlowEvent[];
  status: string;
  view: ExecutionView;
  nodes: NodeView[];
  pendingInputs: ExecutionView["pendingInputs"][string][];
  agentIds: string[];
}

/** An execution's events and what they add up to: status, nodes, pending prompts. */
export function useExecutionEvents(executionId: string | null, options: ExecutionEventsOptions = {}): ExecutionEvents {
  const { store } = useFlowMaestro();
  // Watched first, so an ended execution is not evicted while it is shown.
  useEffect(() => (executionId === null ? undefined : store.getState().watch(executionId)), [store, executionId]);
  useChannel(executionId === null ? null : executionChannel(executionId), options.history ? 0 : undefined);
  const entry = useFlowState((s) => (executionId === null ? undefined : s.executions[executionId]));
  return useMemo(() => {
    const view = entry?.view ?? emptyExecution(executionId ?? "");
    const events = entry?.events() ?? NO_EVENTS;
    const answered = new Set(entry?.answered ?? []);
    const nodes: NodeView[] = view.nodeOrder.map((id) => view.nodes[id] as NodeView);
    const pendingInputs = Object.values(view.pendingInputs).filter((p) => !answered.has(p.inputId));
    return { events, status: view.status, view, nodes, pendingInputs, agentIds: view.agentIds };
  }, [entry, executionId]);
}
