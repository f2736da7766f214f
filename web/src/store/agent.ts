// One agent's streamed response, rebuilt from token offsets: chunks may arrive twice (a
// replay overlapping live delivery) or out of order, and the text is still exact.
import type { AgentToolCallData, FlowEvent } from "../sdk/events";

export interface ToolCallView extends AgentToolCallData {}

export interface AgentView {
  agentId: string;
  executionId: string;
  nodeId: string | null;
  model: string | null;
  attempt: number;
  /** Chunks by offset, for the current attempt. */
  chunks: Record<number, string>;
  /** The contiguous text from offset 0 (the full response once streaming ended). */
  text: string;
  streaming: boolean;
  finishReason: string | null;
  tokenCount: number;
  toolCalls: ToolCallView[];
  /** True when a chunk past the contiguous text has arrived but the one before it has not. */
  hasGap: boolean;
}

export function emptyAgent(agentId: string, executionId: string): AgentView {
  return {
    agentId,
    executionId,
    nodeId: null,
    model: null,
    attempt: 1,
    chunks: {},
    text: "",
    streaming: false,
    finishReason: null,
    tokenCount: 0,
    toolCalls: [],
    hasGap: false,
  };
}

/** The text the chunks spell from offset 0, stopping at the first missing piece. */
export function rebuildText(chunks: Record<number, string>): { text: string; hasGap: boolean } {
  const offsets = Object.keys(chunks)
    .map(Number)
    .sort((a, b) => a - b);
  let text = "";
  for (const offset of offsets) {
    const chunk = chunks[offset] as string;
    if (offset > text.length) return { text, hasGap: true };
    // A chunk overlapping what is already there contributes only its new tail.
    if (offset + chunk.length > text.length) text += chunk.slice(text.length - offset);
  }
  return { text, hasGap: false };
}

export function applyAgentEvent(view: AgentView, event: FlowEvent): AgentView {
  switch (event.type) {
    case "agent:streaming_start": {
      const fresh = event.data.attempt > view.attempt;
      return {
        ...(fresh ? emptyAgent(view.agentId, view.executionId) : view),
        toolCalls: view.toolCalls,
        nodeId: event.data.nodeId,
        model: event.data.model,
        attempt: event.data.attempt,
        streaming: true,
        finishReason: null,
      };
    }
    case "agent:token": {
      if (event.data.attempt < view.attempt) return view;
      const base = event.data.attempt > view.attempt
        ? { ...emptyAgent(view.agentId, view.executionId), toolCalls: view.toolCalls, streaming: true }
        : view;
      if (base.finishReason !== null) return base;
      const chunks = { ...base.chunks, [event.data.offset]: event.data.token };
      const { text, hasGap } = rebuildText(chunks);
      return {
        ...base,
        attempt: event.data.attempt,
        chunks,
        text,
        hasGap,
        tokenCount: Math.max(base.tokenCount, event.data.index + 1),
      };
    }
    case "agent:tool_call": {
      const index = view.toolCalls.findIndex((c) => c.toolCallId === event.data.toolCallId);
      const toolCalls =
        index === -1
          ? [...view.toolCalls, event.data]
          : view.toolCalls.map((c, i) => (i === index ? { ...c, ...event.data } : c));
      return { ...view, toolCalls };
    }
    case "agent:streaming_end":
      if (event.data.attempt < view.attempt) return view;
      // The end carries the full text: it wins over whatever the chunks spelled.
      return {
        ...view,
        attempt: event.data.attempt,
        text: event.data.response,
        hasGap: false,
        streaming: false,
        finishReason: event.data.finishReason,
        tokenCount: event.data.tokenCount,
      };
    default:
      return view;
  }
}
