// The store as it was before the bounds (web/src/store/log.ts and agent.ts at 1327ab4): the
// baseline of store.measure.ts. Every append copied the whole log, every token the chunks.
import type { FlowEvent } from "@flowmaestro/client";
import { applyEvent, emptyExecution, type ExecutionView } from "@flowmaestro/react";

interface Folded<V> {
  view: V;
  events: FlowEvent[];
}

function ingest<V>(log: Folded<V>, event: FlowEvent, apply: (v: V, e: FlowEvent) => V): Folded<V> {
  const last = log.events[log.events.length - 1];
  if (event.position === null || last === undefined || (last.position ?? 0) < event.position) {
    return { view: apply(log.view, event), events: [...log.events, event] };
  }
  return log; // (late events: not exercised by the measurement)
}

function rebuildText(chunks: Record<number, string>): string {
  const offsets = Object.keys(chunks).map(Number).sort((a, b) => a - b);
  let text = "";
  for (const offset of offsets) {
    const chunk = chunks[offset] as string;
    if (offset > text.length) return text;
    if (offset + chunk.length > text.length) text += chunk.slice(text.length - offset);
  }
  return text;
}

interface OldAgent {
  chunks: Record<number, string>;
  text: string;
}

function applyAgent(view: OldAgent, event: FlowEvent): OldAgent {
  if (event.type === "agent:token") {
    const chunks = { ...view.chunks, [event.data.offset]: event.data.token };
    return { chunks, text: rebuildText(chunks) };
  }
  if (event.type === "agent:streaming_end") return { ...view, text: event.data.response };
  return view;
}

/** The old zustand state's maps, copied on every event as its `set` did. */
export class OldStore {
  executions: Record<string, Folded<ExecutionView>> = {};
  agents: Record<string, Folded<OldAgent>> = {};

  ingest(event: FlowEvent): void {
    const { executionId, agentId } = event;
    if (executionId === null) return;
    const entry = this.executions[executionId] ?? { view: emptyExecution(executionId), events: [] };
    this.executions = { ...this.executions, [executionId]: ingest(entry, event, applyEvent) };
    if (agentId !== null) {
      const key = `${agentId}:${executionId}`;
      const log = this.agents[key] ?? { view: { chunks: {}, text: "" }, events: [] };
      this.agents = { ...this.agents, [key]: ingest(log, event, applyAgent) };
    }
  }
}
