import { agentChannel } from "../sdk/channels";
import { type AgentView, emptyAgent } from "../store/agent";
import { agentKey } from "../store/store";
import { useChannel, useFlowState } from "./context";

/** One agent's response, rebuilt from offsets as it streams, and its tool calls. */
export function useAgentStreaming(agentId: string, executionId: string): AgentView {
  useChannel(agentChannel(agentId, executionId));
  const view = useFlowState((s) => s.agents[agentKey(agentId, executionId)]?.view);
  return view ?? emptyAgent(agentId, executionId);
}
