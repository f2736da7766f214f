import { describe, expect, it } from "vitest";
import { event, token } from "../../../../testing/events";
import { type AgentView, addChunk, applyAgentEvent, emptyAgent } from "./agent.js";
import type { FlowEvent } from "@flowmaestro/client";

const fold = (events: FlowEvent[]): AgentView => events.reduce(applyAgentEvent, emptyAgent("a1", "ex_1"));

describe("agent text from offsets", () => {
  const chunks = ["The ", "quick ", "brown ", "fox"];
  const offsets = chunks.map((_, i) => chunks.slice(0, i).join("").length);
  const tokens = chunks.map((c, i) => token(10 + i, offsets[i]!, c, i));

  it("rebuilds the exact text whatever the order, with duplicates", () => {
    const shuffled = [tokens[2]!, tokens[0]!, tokens[3]!, tokens[0]!, tokens[1]!, tokens[2]!];
    const view = fold(shuffled);
    expect(view.text).toBe("The quick brown fox");
    expect(view.hasGap).toBe(false);
    expect(view.tokenCount).toBe(4);
  });

  it("shows the contiguous prefix while a chunk is missing", () => {
    const view = fold([tokens[0]!, tokens[2]!]);
    expect(view.text).toBe("The ");
    expect(view.hasGap).toBe(true);
    expect(addChunk("ab", {}, 1, "bcd").text).toBe("abcd");
    expect(addChunk("a", { 3: "d", 2: "c" }, 1, "b")).toEqual({ text: "abcd", pending: {}, hasGap: false });
  });

  it("takes streaming_end's full response and stops streaming", () => {
    const start = event("agent:streaming_start", 9, { agentId: "a1", nodeId: "n", model: "offline", attempt: 1 }, { agentId: "a1" });
    const end = event("agent:streaming_end", 20, { response: "The quick brown fox", tokenCount: 4, finishReason: "stop", attempt: 1 }, { agentId: "a1" });
    const mid = fold([start, tokens[0]!]);
    expect(mid.streaming).toBe(true);
    const done = fold([start, tokens[0]!, end]);
    expect(done).toMatchObject({ text: "The quick brown fox", streaming: false, finishReason: "stop" });
  });

  it("starts over on a retried attempt and ignores the stale one's chunks", () => {
    const retry = token(30, 0, "New", 0, 2);
    const stale = token(31, 4, "quick ", 1, 1);
    const view = fold([...tokens, retry, stale]);
    expect(view.text).toBe("New");
    expect(view.attempt).toBe(2);
  });

  it("updates a tool call in place as its status changes", () => {
    const call = (position: number, status: "started" | "completed") =>
      event("agent:tool_call", position, {
        toolCallId: "c1", toolName: "search", arguments: { q: "x" }, status,
        result: status === "completed" ? { hits: 2 } : null, error: null,
      }, { agentId: "a1" });
    const view = fold([call(1, "started"), call(2, "completed")]);
    expect(view.toolCalls).toHaveLength(1);
    expect(view.toolCalls[0]).toMatchObject({ status: "completed", result: { hits: 2 } });
  });
});
