"use client";
import { agentChannel } from "@flowmaestro/client";
import { type AgentView, emptyAgent } from "../store/agent.js";
import { agentKey } from "../store/store.js";
import { useChannel, useFlowState } from "./context.js";

/** One agent's response, rebuilt from offsets as it streams, and its tool calls. */
export function useAgentStreaming(agentId: string, executionId: string): AgentView {
  useChannel(agentChannel(agentId, executionId));
  const view = useFlowState((s) => s.agents[agentKey(agentId, executionId)]?.view);
  return view ?? emptyAgent(agentId, executionId);
}
