// One execution's state, folded from its events in position order (store/log.ts). Pure
// functions: the zustand store calls them; tests call them directly.
import type { ExecutionSnapshot, PendingInput } from "@flowmaestro/client";
import type { FlowEvent, JsonValue } from "@flowmaestro/client";

export type NodeStatus = "pending" | "running" | "retrying" | "waiting" | "completed" | "failed";

export interface NodeView {
  nodeId: string;
  nodeType: string;
  status: NodeStatus;
  attempt: number;
  /** Failed attempts that were retried. */
  retries: number;
  durationMs: number | null;
  progress: number | null;
  step: string | null;
  error: { message: string; type: string } | null;
  nextRetryInMs: number | null;
}

export interface ExecutionView {
  executionId: string;
  workflowId: string | null;
  status: string;
  progress: number;
  completedNodes: number;
  totalNodes: number;
  currentNodeId: string | null;
  nodes: Record<string, NodeView>;
  /** Node ids in the order they first appeared. */
  nodeOrder: string[];
  /** Agents that started streaming (`agent:streaming_start`), in order. */
  agentIds: string[];
  pendingInputs: Record<string, PendingInput>;
  outputs: Record<string, JsonValue> | null;
  error: { message: string; type: string } | null;
  failedNodeId: string | null;
  durationMs: number | null;
}

export function emptyExecution(executionId: string): ExecutionView {
  return {
    executionId,
    workflowId: null,
    status: "pending",
    progress: 0,
    completedNodes: 0,
    totalNodes: 0,
    currentNodeId: null,
    nodes: {},
    nodeOrder: [],
    agentIds: [],
    pendingInputs: {},
    outputs: null,
    error: null,
    failedNodeId: null,
    durationMs: null,
  };
}

/** An HTTP snapshot (after `recovered: false`) as a view to fold later events onto. */
export function snapshotView(snapshot: ExecutionSnapshot): ExecutionView {
  const base = emptyExecution(snapshot.executionId);
  base.workflowId = snapshot.flowName ?? null;
  base.status = snapshot.status;
  const { outputs } = snapshot;
  base.outputs = outputs !== null && typeof outputs === "object" && !Array.isArray(outputs) ? outputs : null;
  base.error = snapshot.error;
  for (const input of snapshot.pendingInputs) base.pendingInputs[input.inputId] = input;
  const { nodes } = snapshot;
  for (const node of nodes) {
    base.nodeOrder.push(node.nodeId);
    base.nodes[node.nodeId] = {
      ...emptyNode(node.nodeId, node.nodeType),
      status: node.status as NodeStatus,
      attempt: node.attempt,
      retries: Math.max(0, node.attempt - 1),
      durationMs: node.durationMs,
      progress: node.progress,
    };
  }
  base.completedNodes = nodes.filter((n) => n.status === "completed").length;
  base.totalNodes = nodes.length;
  return base;
}

function emptyNode(nodeId: string, nodeType: string): NodeView {
  return {
    nodeId,
    nodeType,
    status: "pending",
    attempt: 0,
    retries: 0,
    durationMs: null,
    progress: null,
    step: null,
    error: null,
    nextRetryInMs: null,
  };
}

function withNode(view: ExecutionView, nodeId: string, nodeType: string, patch: Partial<NodeView>): ExecutionView {
  const existing = view.nodes[nodeId];
  const node = { ...(existing ?? emptyNode(nodeId, nodeType)), ...patch };
  if (nodeType && !node.nodeType) node.nodeType = nodeType;
  return {
    ...view,
    nodes: { ...view.nodes, [nodeId]: node },
    nodeOrder: existing ? view.nodeOrder : [...view.nodeOrder, nodeId],
  };
}

function withoutInput(view: ExecutionView, inputId: string): ExecutionView {
  if (!(inputId in view.pendingInputs)) return view;
  const pendingInputs = { ...view.pendingInputs };
  delete pendingInputs[inputId];
  return { ...view, pendingInputs };
}

/** Fold one event into the state (of agent events only the start counts; kb events none). */
export function applyEvent(view: ExecutionView, event: FlowEvent): ExecutionView {
  switch (event.type) {
    case "execution:started":
      return { ...view, workflowId: event.data.workflowId, status: event.data.status };
    case "execution:updated":
      return {
        ...view,
        status: event.data.status,
        progress: event.data.progress,
        completedNodes: event.data.completedNodes,
        totalNodes: event.data.totalNodes,
        currentNodeId: event.data.currentNodeId,
      };
    case "execution:completed":
      return {
        ...view,
        status: "completed",
        progress: 100,
        outputs: event.data.outputs,
        durationMs: event.data.durationMs,
        pendingInputs: {},
      };
    case "execution:failed":
      return {
        ...view,
        // The workflow reports a cancellation as a failure of type `cancelled`.
        status: event.data.error.type === "cancelled" ? "cancelled" : "failed",
        error: event.data.error,
        failedNodeId: event.data.failedNodeId,
        pendingInputs: {},
      };
    case "node:started": {
      const previous = view.nodes[event.data.nodeId];
      return withNode(view, event.data.nodeId, event.data.nodeType, {
        status: "running",
        attempt: event.data.attempt,
        retries: Math.max(previous?.retries ?? 0, event.data.attempt - 1),
        progress: null,
        step: null,
        error: null,
        nextRetryInMs: null,
      });
    }
    case "node:progress":
      return withNode(view, event.data.nodeId, "", {
        progress: event.data.progress,
        step: event.data.step,
      });
    case "node:completed":
      return withNode(view, event.data.nodeId, event.data.nodeType, {
        status: "completed",
        durationMs: event.data.durationMs,
        progress: 100,
        error: null,
        nextRetryInMs: null,
      });
    case "node:failed": {
      const previous = view.nodes[event.data.nodeId];
      return withNode(view, event.data.nodeId, event.data.nodeType, {
        status: event.data.willRetry ? "retrying" : "failed",
        attempt: event.data.attempt,
        retries: Math.max(previous?.retries ?? 0, event.data.willRetry ? event.data.attempt : event.data.attempt - 1),
        error: event.data.error,
        nextRetryInMs: event.data.nextRetryInMs,
      });
    }
    case "user_input:required": {
      const next = withNode(view, event.data.nodeId, "user_input", { status: "waiting" });
      return { ...next, pendingInputs: { ...next.pendingInputs, [event.data.inputId]: event.data } };
    }
    case "agent:streaming_start":
      return view.agentIds.includes(event.data.agentId) ? view : { ...view, agentIds: [...view.agentIds, event.data.agentId] };
    case "user_input:received":
    case "user_input:timeout":
      return withoutInput(view, event.data.inputId);
    default:
      return view;
  }
}
