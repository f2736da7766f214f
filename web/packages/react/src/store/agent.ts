// One agent's streamed response, rebuilt from token offsets: chunks may arrive twice (a
// replay overlapping live delivery) or out of order, and the text is still exact. A chunk in
// order is appended (O(1): no copy of what came before); only chunks past a gap wait aside.
import type { AgentToolCallData, FlowEvent } from "@flowmaestro/client";

export interface ToolCallView extends AgentToolCallData {}

export interface AgentView {
  agentId: string;
  executionId: string;
  nodeId: string | null;
  model: string | null;
  attempt: number;
  /** Chunks past a gap (by offset) for the current attempt, waiting for the one before. */
  pending: Record<number, string>;
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
    pending: {},
    text: "",
    streaming: false,
    finishReason: null,
    tokenCount: 0,
    toolCalls: [],
    hasGap: false,
  };
}

/** `text` with the chunk at `offset` laid over it, then every pending chunk that now fits;
 * stops at the first missing piece. */
export function addChunk(
  text: string,
  pending: Record<number, string>,
  offset: number,
  chunk: string,
): { text: string; pending: Record<number, string>; hasGap: boolean } {
  if (offset > text.length) {
    const waiting = { ...pending, [offset]: chunk };
    return { text, pending: waiting, hasGap: true };
  }
  // A chunk overlapping what is already there contributes only its new tail.
  let next = offset + chunk.length > text.length ? text + chunk.slice(text.length - offset) : text;
  let rest = pending;
  for (let fits = true; fits; ) {
    fits = false;
    for (const key of Object.keys(rest)) {
      const at = Number(key);
      if (at > next.length) continue;
      const { [at]: piece = "", ...others } = rest;
      if (at + piece.length > next.length) next += piece.slice(next.length - at);
      rest = others;
      fits = true;
    }
  }
  return { text: next, pending: rest, hasGap: Object.keys(rest).length > 0 };
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
      const { text, pending, hasGap } = addChunk(base.text, base.pending, event.data.offset, event.data.token);
      return {
        ...base,
        attempt: event.data.attempt,
        pending,
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
        pending: {},
        hasGap: false,
        streaming: false,
        finishReason: event.data.finishReason,
        tokenCount: event.data.tokenCount,
      };
    default:
      return view;
  }
}
