// Builders of wire events for the unit tests.
import type { EventOf, EventType } from "@flowmaestro/client";

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
