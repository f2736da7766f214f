// What the execution page draws beyond the folded view: the flow's graph (from the HTTP
// snapshot), each node's attempts and the waits for people (from the events' timestamps),
// and which nodes were skipped. Pure functions over the store's data.
import type { FlowGraph } from "@flowmaestro/client";
import type { FlowEvent, JsonValue } from "@flowmaestro/client";
import type { ExecutionView, NodeView } from "@flowmaestro/react";

export type { FlowGraph };
export type GraphNode = FlowGraph["nodes"][number];

export interface Attempt {
  attempt: number;
  startedAt: number;
  /** null while the attempt runs. */
  endedAt: number | null;
  outcome: "running" | "completed" | "failed" | "retrying";
  inputs: Record<string, JsonValue> | null;
  outputs: JsonValue;
  error: { message: string; type: string } | null;
  nextRetryInMs: number | null;
}

export interface Wait {
  inputId: string;
  nodeId: string;
  from: number;
  to: number | null;
  outcome: "waiting" | "answered" | "timed out";
}

export interface NodeHistory {
  attempts: Attempt[];
  waits: Wait[];
}

const time = (event: FlowEvent) => Date.parse(event.timestamp);

/** Per node, its attempts and waits, in the order the events say they happened. */
export function nodeHistories(events: readonly FlowEvent[]): Record<string, NodeHistory> {
  const histories: Record<string, NodeHistory> = {};
  const of = (nodeId: string) => (histories[nodeId] ??= { attempts: [], waits: [] });
  const current = (nodeId: string, attempt: number) => of(nodeId).attempts.find((a) => a.attempt === attempt);
  const waitsByInput: Record<string, Wait> = {};
  for (const event of events) {
    switch (event.type) {
      case "node:started": {
        const h = of(event.data.nodeId);
        if (!current(event.data.nodeId, event.data.attempt))
          h.attempts.push({
            attempt: event.data.attempt,
            startedAt: time(event),
            endedAt: null,
            outcome: "running",
            inputs: event.data.inputs,
            outputs: null,
            error: null,
            nextRetryInMs: null,
          });
        break;
      }
      case "node:completed": {
        const h = of(event.data.nodeId);
        const attempt = h.attempts.at(-1);
        if (attempt && attempt.endedAt === null)
          Object.assign(attempt, { endedAt: time(event), outcome: "completed", outputs: event.data.outputs });
        else
          // A completion without a start we saw (e.g. history pruned): one attempt ending now.
          h.attempts.push({
            attempt: (attempt?.attempt ?? 0) + 1,
            startedAt: time(event) - event.data.durationMs,
            endedAt: time(event),
            outcome: "completed",
            inputs: null,
            outputs: event.data.outputs,
            error: null,
            nextRetryInMs: null,
          });
        break;
      }
      case "node:failed": {
        const h = of(event.data.nodeId);
        const patch = {
          endedAt: time(event),
          outcome: event.data.willRetry ? ("retrying" as const) : ("failed" as const),
          error: event.data.error,
          nextRetryInMs: event.data.nextRetryInMs,
        };
        const attempt = current(event.data.nodeId, event.data.attempt);
        if (attempt) Object.assign(attempt, patch);
        else h.attempts.push({ attempt: event.data.attempt, startedAt: time(event), inputs: null, outputs: null, ...patch });
        break;
      }
      case "user_input:required": {
        const wait: Wait = { inputId: event.data.inputId, nodeId: event.data.nodeId, from: time(event), to: null, outcome: "waiting" };
        waitsByInput[wait.inputId] = wait;
        of(wait.nodeId).waits.push(wait);
        break;
      }
      case "user_input:received":
      case "user_input:timeout": {
        const wait = waitsByInput[event.data.inputId];
        if (wait && wait.to === null) {
          wait.to = time(event);
          wait.outcome = event.type === "user_input:received" ? "answered" : "timed out";
        }
        break;
      }
      default:
        break;
    }
  }
  return histories;
}

const truthy = (v: JsonValue | undefined) =>
  !(v === null || v === undefined || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));

/**
 * Nodes that will not run: the branch a completed condition did not take, nodes whose every
 * predecessor is skipped, and, once the execution completed, every node that never started.
 */
export function skippedNodes(
  graph: FlowGraph,
  view: ExecutionView,
  histories: Record<string, NodeHistory>,
): Set<string> {
  const skipped = new Set<string>();
  const started = (id: string) => view.nodes[id] !== undefined && view.nodes[id]!.status !== "pending";
  for (const node of graph.nodes) {
    if (node.type !== "condition" || view.nodes[node.id]?.status !== "completed") continue;
    const outputs = histories[node.id]?.attempts.at(-1)?.outputs;
    const result = outputs !== null && typeof outputs === "object" && !Array.isArray(outputs) ? outputs["result"] : undefined;
    for (const id of (truthy(result) ? node.branches?.else : node.branches?.then) ?? []) if (!started(id)) skipped.add(id);
  }
  // Propagate along `after` until nothing changes (graphs are small and acyclic).
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of graph.nodes) {
      if (skipped.has(node.id) || started(node.id) || node.after.length === 0) continue;
      if (node.after.every((id) => skipped.has(id))) {
        skipped.add(node.id);
        changed = true;
      }
    }
  }
  if (view.status === "completed") for (const node of graph.nodes) if (!started(node.id)) skipped.add(node.id);
  return skipped;
}

export type DisplayStatus = NodeView["status"] | "skipped";

/** The status to draw for each node of the graph (and of the view, should they differ). */
export function displayStatuses(graph: FlowGraph, view: ExecutionView, skipped: Set<string>): Record<string, DisplayStatus> {
  const statuses: Record<string, DisplayStatus> = {};
  for (const node of graph.nodes) statuses[node.id] = skipped.has(node.id) ? "skipped" : (view.nodes[node.id]?.status ?? "pending");
  return statuses;
}

/** "3 of 4 nodes done, 1 skipped": counts from the nodes themselves, right at completion too. */
export function nodeCounts(graph: FlowGraph | null, view: ExecutionView, skipped: Set<string>) {
  const total = graph ? graph.nodes.length : Math.max(view.totalNodes, view.nodeOrder.length);
  const done = Object.values(view.nodes).filter((n) => n.status === "completed").length;
  return { total, done, skipped: skipped.size };
}

/**
 * The graph of an execution that has none in advance (a workflow of your own): its nodes in
 * the order they started, each after the node that last ended before it first started (its
 * observed predecessor; nodes started together share one).
 */
export function observedGraph(view: ExecutionView, histories: Record<string, NodeHistory>): FlowGraph {
  const ends: { id: string; at: number }[] = [];
  for (const id of view.nodeOrder) {
    const attempts = histories[id]?.attempts ?? [];
    const last = attempts.at(-1);
    if (last?.endedAt != null && last.outcome === "completed") ends.push({ id, at: last.endedAt });
  }
  return {
    nodes: view.nodeOrder.map((id) => {
      const start = histories[id]?.attempts[0]?.startedAt;
      let before: { id: string; at: number } | undefined;
      for (const end of ends) if (end.id !== id && start !== undefined && end.at <= start && (!before || end.at > before.at)) before = end;
      return { id, type: view.nodes[id]?.nodeType ?? "", after: before ? [before.id] : [] };
    }),
  };
}
