import { useMemo } from "react";
import { executionChannel } from "../sdk/channels";
import type { FlowEvent } from "../sdk/events";
import { emptyExecution, type NodeView } from "../store/execution";
import { useChannel, useFlowState } from "./context";

const NO_EVENTS: FlowEvent[] = [];

/** An execution's events and what they add up to: status, nodes, pending prompts. */
export function useExecutionEvents(executionId: string | null) {
  useChannel(executionId === null ? null : executionChannel(executionId));
  const entry = useFlowState((s) => (executionId === null ? undefined : s.executions[executionId]));
  return useMemo(() => {
    const view = entry?.view ?? emptyExecution(executionId ?? "");
    const answered = new Set(entry?.answered ?? []);
    const nodes: NodeView[] = view.nodeOrder.map((id) => view.nodes[id] as NodeView);
    const pendingInputs = Object.values(view.pendingInputs).filter((p) => !answered.has(p.inputId));
    const agentIds = [
      ...new Set(
        (entry?.events ?? NO_EVENTS).flatMap((e) => (e.type === "agent:streaming_start" ? [e.data.agentId] : [])),
      ),
    ];
    return { events: entry?.events ?? NO_EVENTS, status: view.status, view, nodes, pendingInputs, agentIds };
  }, [entry, executionId]);
}
