// The store's memory bounds: a capped log per execution (older events live on in the view),
// an agent's tokens dropped at streaming_end, and ended executions evicted once unwatched.
import type { FlowEvent } from "@flowmaestro/client";
import { describe, expect, it } from "vitest";
import { event, nodeCompleted, nodeStarted, snapshotOf } from "../../../../testing/events";
import { agentKey, createFlowStore } from "./store.js";

const on = (executionId: string, e: FlowEvent): FlowEvent => ({ ...e, executionId });

function stream(executionId: string, first: number, tokens: number): FlowEvent[] {
  const agent = { agentId: "a1", executionId };
  const start = event("agent:streaming_start", first, { agentId: "a1", nodeId: "n", model: "offline", attempt: 1 }, agent);
  const chunks = Array.from({ length: tokens }, (_, i) =>
    event("agent:token", first + 1 + i, { token: "ab", index: i, offset: 2 * i, attempt: 1 }, agent),
  );
  const end = event("agent:streaming_end", first + 1 + tokens, { response: "ab".repeat(tokens), tokenCount: tokens, finishReason: "stop", attempt: 1 }, agent);
  return [start, ...chunks, end];
}

describe("store bounds", () => {
  it("keeps at most maxEvents per execution; the view still holds what the dropped ones did", () => {
    const store = createFlowStore("offline", { maxEvents: 10 });
    for (let i = 0; i < 50; i += 1) {
      store.getState().ingest(nodeStarted(2 * i + 1, `n${i}`));
      store.getState().ingest(nodeCompleted(2 * i + 2, `n${i}`));
    }
    const entry = store.getState().executions["ex_1"]!;
    expect(entry.events().map((e) => e.position)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(entry.view.nodeOrder).toHaveLength(50);
    expect(Object.values(entry.view.nodes).every((n) => n.status === "completed")).toBe(true);
    // A late event older than the kept ones was folded away already: it changes nothing.
    store.getState().ingest(nodeStarted(3, "n1", 2));
    expect(store.getState().executions["ex_1"]).toBe(entry);
  });

  it("a late event inside the kept window is put in place and the view refolded", () => {
    const store = createFlowStore("offline", { maxEvents: 10 });
    for (const p of [1, 2, 4]) store.getState().ingest(nodeStarted(p, `n${p}`));
    store.getState().ingest(nodeCompleted(3, "n1"));
    const entry = store.getState().executions["ex_1"]!;
    expect(entry.events().map((e) => e.position)).toEqual([1, 2, 3, 4]);
    expect(entry.view.nodes["n1"]?.status).toBe("completed");
  });

  it("drops an agent's tokens at streaming_end and keeps its text", () => {
    const store = createFlowStore("offline", { maxEvents: 5000 });
    for (const e of stream("ex_1", 1, 2000)) store.getState().ingest(e);
    const { executions, agents } = store.getState();
    expect(executions["ex_1"]!.events().map((e) => e.type)).toEqual(["agent:streaming_start", "agent:streaming_end"]);
    expect(executions["ex_1"]!.view.agentIds).toEqual(["a1"]);
    const agent = agents[agentKey("a1", "ex_1")]!;
    expect(agent.events()).toHaveLength(2);
    expect(agent.view).toMatchObject({ text: "ab".repeat(2000), tokenCount: 2000, streaming: false, pending: {} });
  });

  it("evicts an ended execution nobody watches, and a watched one once it is left", () => {
    const store = createFlowStore();
    const completed = (executionId: string, position: number) =>
      on(executionId, event("execution:completed", position, { outputs: {}, durationMs: 1 }));
    const leave = store.getState().watch("ex_watched");
    for (const [id, p] of [["ex_watched", 1], ["ex_other", 3]] as const) {
      for (const e of stream(id, p * 10, 3)) store.getState().ingest(e);
      store.getState().ingest(completed(id, p * 10 + 9));
    }
    store.getState().ingest(on("ex_running", nodeStarted(40, "n")));
    const state = store.getState();
    expect(Object.keys(state.executions).sort()).toEqual(["ex_running", "ex_watched"]);
    expect(Object.keys(state.agents)).toEqual([agentKey("a1", "ex_watched")]);
    expect(state.statuses).toEqual({ ex_watched: "completed", ex_other: "completed", ex_running: "pending" });
    leave();
    expect(Object.keys(store.getState().executions)).toEqual(["ex_running"]);
    expect(store.getState().agents).toEqual({});
  });

  it("starts from a snapshot: events it covers are ignored, later ones fold onto it", () => {
    const store = createFlowStore();
    store.getState().ingest(nodeStarted(5, "early"));
    store.getState().resync({
      channel: "execution:ex_1",
      snapshot: snapshotOf({ executionId: "ex_1", position: 10, nodes: [{ nodeId: "early", status: "completed" }] }),
    });
    store.getState().ingest(nodeCompleted(7, "early"));
    store.getState().ingest(nodeStarted(11, "late"));
    const entry = store.getState().executions["ex_1"]!;
    expect(entry.events().map((e) => e.position)).toEqual([11]);
    expect(entry.view.nodeOrder).toEqual(["early", "late"]);
  });
});
