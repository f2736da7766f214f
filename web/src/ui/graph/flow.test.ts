import { describe, expect, it } from "vitest";
import type { FlowEvent } from "@flowmaestro/client";
import { event } from "../../../testing/events";
import { layoutFlow } from "./layout";
import { applyEvent, emptyExecution } from "@flowmaestro/react";
import { type FlowGraph, displayStatuses, nodeCounts, nodeHistories, observedGraph, skippedNodes } from "./flow";

const at = (e: FlowEvent, seconds: number): FlowEvent => ({ ...e, timestamp: new Date(Date.UTC(2026, 10, 25, 19, 0, seconds)).toISOString() });

const approval: FlowGraph = {
  nodes: [
    { id: "check", type: "condition", after: [], branches: { then: ["approve"], else: ["auto_approve"] } },
    { id: "approve", type: "user_input", after: ["check"] },
    { id: "auto_approve", type: "transform", after: ["check"] },
    { id: "decide", type: "transform", after: ["approve", "auto_approve"] },
  ],
};

function fold(events: FlowEvent[]) {
  return events.reduce(applyEvent, emptyExecution("ex_1"));
}

describe("attempts and waits from the events", () => {
  it("records each attempt, the failure that was retried and the wait for a person", () => {
    const events = [
      at(event("node:started", 1, { nodeId: "fetch", nodeType: "http", attempt: 1, inputs: { url: "u" } }), 0),
      at(event("node:failed", 2, { nodeId: "fetch", nodeType: "http", attempt: 1, maxAttempts: 3, willRetry: true, nextRetryInMs: 200, error: { message: "503", type: "http_error" } }), 1),
      at(event("node:started", 3, { nodeId: "fetch", nodeType: "http", attempt: 2, inputs: { url: "u" } }), 2),
      at(event("node:completed", 4, { nodeId: "fetch", nodeType: "http", outputs: { status: 200 }, durationMs: 1000 }), 3),
      at(event("user_input:required", 5, { inputId: "in_1", nodeId: "ask", prompt: "?", inputType: "boolean", schema: {}, choices: null, timeoutSeconds: null, expiresAt: null }), 4),
      at(event("user_input:received", 6, { inputId: "in_1", nodeId: "ask" }), 9),
    ];
    const h = nodeHistories(events);
    expect(h["fetch"]!.attempts.map((a) => [a.attempt, a.outcome, a.endedAt! - a.startedAt])).toEqual([
      [1, "retrying", 1000],
      [2, "completed", 1000],
    ]);
    expect(h["fetch"]!.attempts[1]!.outputs).toEqual({ status: 200 });
    expect(h["ask"]!.waits).toMatchObject([{ inputId: "in_1", outcome: "answered" }]);
    expect(h["ask"]!.waits[0]!.to! - h["ask"]!.waits[0]!.from).toBe(5000);
  });
});

describe("skipped nodes", () => {
  const small = [
    event("node:started", 1, { nodeId: "check", nodeType: "condition", attempt: 1, inputs: {} }),
    event("node:completed", 2, { nodeId: "check", nodeType: "condition", outputs: { result: false }, durationMs: 3 }),
  ];

  it("greys the branch a condition did not take as soon as it completes", () => {
    const view = fold(small);
    const skipped = skippedNodes(approval, view, nodeHistories(small));
    expect([...skipped]).toEqual(["approve"]);
    expect(displayStatuses(approval, view, skipped)).toEqual({
      check: "completed",
      approve: "skipped",
      auto_approve: "pending",
      decide: "pending",
    });
  });

  it("counts every node at completion: done and skipped add up", () => {
    const events = [
      ...small,
      event("node:started", 3, { nodeId: "auto_approve", nodeType: "transform", attempt: 1, inputs: {} }),
      event("node:completed", 4, { nodeId: "auto_approve", nodeType: "transform", outputs: true, durationMs: 3 }),
      event("execution:updated", 5, { status: "running", currentNodeId: "decide", progress: 75, completedNodes: 2, totalNodes: 4 }),
      event("node:started", 6, { nodeId: "decide", nodeType: "transform", attempt: 1, inputs: {} }),
      event("node:completed", 7, { nodeId: "decide", nodeType: "transform", outputs: {}, durationMs: 3 }),
      event("execution:completed", 8, { outputs: {}, durationMs: 40 }),
    ];
    const view = fold(events);
    const skipped = skippedNodes(approval, view, nodeHistories(events));
    expect(nodeCounts(approval, view, skipped)).toEqual({ total: 4, done: 3, skipped: 1 });
  });

  it("skips a node whose every predecessor is skipped", () => {
    const graph: FlowGraph = {
      nodes: [
        { id: "c", type: "condition", after: [], branches: { then: ["a"], else: [] } },
        { id: "a", type: "transform", after: ["c"] },
        { id: "b", type: "transform", after: ["a"] },
      ],
    };
    const events = small.map((e) => ({ ...e, data: { ...e.data, nodeId: "c" } }) as FlowEvent);
    const view = fold(events);
    expect([...skippedNodes(graph, view, nodeHistories(events))].sort()).toEqual(["a", "b"]);
  });
});

describe("the layout", () => {
  it("places every node once, draws every edge, and is the same on every call", () => {
    const a = layoutFlow(approval);
    expect(a.nodes.map((n) => n.id)).toEqual(["check", "approve", "auto_approve", "decide"]);
    expect(a.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual([
      "approve->decide",
      "auto_approve->decide",
      "check->approve",
      "check->auto_approve",
    ]);
    const x = Object.fromEntries(a.nodes.map((n) => [n.id, n.x]));
    expect(x["check"]!).toBeLessThan(x["approve"]!);
    expect(x["approve"]).toBe(x["auto_approve"]);
    expect(x["approve"]!).toBeLessThan(x["decide"]!);
    expect(layoutFlow(approval)).toEqual(a);
  });
});

describe("the graph of an execution with none in advance", () => {
  it("grows as nodes start, each after the node that ended before it started", () => {
    const events = [
      at(event("node:started", 1, { nodeId: "reserve", nodeType: "reserve", attempt: 1, inputs: {} }), 0),
      at(event("node:completed", 2, { nodeId: "reserve", nodeType: "reserve", outputs: 1, durationMs: 1000 }), 1),
      at(event("node:started", 3, { nodeId: "a", nodeType: "fan", attempt: 1, inputs: {} }), 2),
      at(event("node:started", 4, { nodeId: "b", nodeType: "fan", attempt: 1, inputs: {} }), 2),
      at(event("node:completed", 5, { nodeId: "a", nodeType: "fan", outputs: 1, durationMs: 1000 }), 3),
    ];
    const first = observedGraph(fold(events.slice(0, 2)), nodeHistories(events.slice(0, 2)));
    expect(first.nodes).toEqual([{ id: "reserve", type: "reserve", after: [] }]);
    const later = observedGraph(fold(events), nodeHistories(events));
    expect(later.nodes).toEqual([
      { id: "reserve", type: "reserve", after: [] },
      { id: "a", type: "fan", after: ["reserve"] },
      { id: "b", type: "fan", after: ["reserve"] },
    ]);
  });
});
