// Channel (room) names of docs/protocol.md, and which channels an event belongs to.
import type { FlowEvent } from "./events.js";

export const userChannel = (userId: string) => `user:${userId}`;
export const executionChannel = (executionId: string) => `execution:${executionId}`;
export const agentChannel = (agentId: string, executionId: string) =>
  `agent:${agentId}:${executionId}`;
export const kbChannel = (knowledgeBaseId: string) => `kb:${knowledgeBaseId}`;

/** Every channel that sees `event`, as the server routes it (events/channels.py). */
export function channelsOf(event: FlowEvent): string[] {
  const channels = [userChannel(event.userId)];
  if (event.executionId !== null) {
    channels.push(executionChannel(event.executionId));
    if (event.agentId !== null) channels.push(agentChannel(event.agentId, event.executionId));
  }
  if (event.knowledgeBaseId !== null) channels.push(kbChannel(event.knowledgeBaseId));
  return channels;
}
