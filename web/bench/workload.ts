// The measured workload: executions whose agents stream tokens, built on demand (as a
// socket parses events) so a heap holds only what the store keeps. Shared by
// store.measure.ts (Node) and heap/main.ts (Chromium).
import type { FlowEvent } from "@flowmaestro/client";

let position = 0;
const envelope = (executionId: string, agentId: string | null) => ({
  id: "00000000-0000-4000-8000-000000000000",
  timestamp: "2026-12-04T22:00:00.000Z",
  userId: "u1",
  executionId,
  workflowId: "agent",
  agentId,
  knowledgeBaseId: null,
});

/** One execution's event number `i`: started, an agent streaming `tokens` tokens of 4
 * characters, completed; null past its end. Built on demand, as a socket parses them, so
 * the heap holds only what the store keeps. */
function eventOf(executionId: string, tokens: number, i: number): FlowEvent | null {
  const e = (type: string, data: object, agentId: string | null = null) =>
    ({ ...envelope(executionId, agentId), position: ++position, type, data }) as FlowEvent;
  if (i === 0) return e("execution:started", { workflowId: "agent", status: "running", startedAt: "2026-12-04T22:00:00Z", inputs: {} });
  if (i === 1) return e("node:started", { nodeId: "agent", nodeType: "agent", attempt: 1, inputs: {} });
  if (i === 2) return e("agent:streaming_start", { agentId: "a1", nodeId: "agent", model: "offline", attempt: 1 }, "a1");
  const t = i - 3;
  if (t < tokens) return e("agent:token", { token: "abcd", index: t, offset: 4 * t, attempt: 1 }, "a1");
  if (t === tokens) return e("agent:streaming_end", { response: "abcd".repeat(tokens), tokenCount: tokens, finishReason: "stop", attempt: 1 }, "a1");
  if (t === tokens + 1) return e("node:completed", { nodeId: "agent", nodeType: "agent", outputs: null, durationMs: 1 });
  if (t === tokens + 2) return e("execution:completed", { outputs: {}, durationMs: 1 });
  return null;
}

/** The events of `executions` concurrent executions, interleaved as their streams arrive. */
export function* workload(executions: number, tokens: number): Generator<FlowEvent> {
  for (let i = 0; i < tokens + 6; i += 1) {
    for (let x = 0; x < executions; x += 1) {
      const event = eventOf(`ex_${x}`, tokens, i);
      if (event) yield event;
    }
  }
}

