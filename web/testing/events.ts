// Builders of wire events for the unit tests.
import type { EventOf, EventType, ExecutionSnapshot } from "@flowmaestro/client";

let counter = 0;

export function event<T extends EventType>(
  type: T,
  position: number,
  data: EventOf<T>["data"],
  envelope: Partial<Pick<EventOf<T>, "executionId" | "agentId" | "knowledgeBaseId">> = {},
): EventOf<T> {
  counter += 1;
  return {
    id: `00000000-0000-4000-8000-${counter.toString().padStart(12, "0")}`,
    position,
    timestamp: "2026-11-25T19:22:16.123Z",
    userId: "u1",
    executionId: "ex_1",
    workflowId: "approval",
    agentId: null,
    knowledgeBaseId: null,
    type,
    data,
    ...envelope,
  } as EventOf<T>;
}

export const nodeStarted = (position: number, nodeId: string, attempt = 1) =>
  event("node:started", position, { nodeId, nodeType: "transform", attempt, inputs: {} });

export const nodeCompleted = (position: number, nodeId: string, durationMs = 5) =>
  event("node:completed", position, { nodeId, nodeType: "transform", outputs: null, durationMs });

export const token = (position: number, offset: number, text: string, index: number, attempt = 1) =>
  event("agent:token", position, { token: text, index, offset, attempt }, { agentId: "a1" });

type SnapshotNode = ExecutionSnapshot["nodes"][number];

/** An HTTP snapshot with what a test does not care about filled in. */
export function snapshotOf(
  partial: Partial<Omit<ExecutionSnapshot, "nodes">> & { executionId: string; position: number; nodes?: Partial<SnapshotNode>[] },
): ExecutionSnapshot {
  const { nodes = [], ...rest } = partial;
  return {
    flowName: "approval", ownerId: "u1", visibility: "private", status: "running", createdAt: "2026-11-25T19:22:16Z", updatedAt: "2026-11-25T19:22:16Z",
    runId: null, inputs: {}, graph: null, startedAt: null, endedAt: null, durationMs: null, currentNodeId: null,
    progress: 0, completedNodes: 0, totalNodes: null, pendingInputs: [], answers: [], outputs: null, error: null, failedNodeId: null,
    nodes: nodes.map((n) => ({
      nodeId: "n", nodeType: "", status: "pending", attempt: 1, maxAttempts: null, durationMs: null, progress: null, lastError: null, ...n,
    })),
    ...rest,
  };
}
