"use client";
// @flowmaestro/react: the provider, the hooks and the bounded store they read
// (docs/sdk-typescript.md). Client components: React needs "use client" for hooks and context.
export { FlowMaestroProvider, useChannel, useFlowMaestro, useFlowState } from "./hooks/context.js";
export { useAgentStreaming } from "./hooks/useAgentStreaming.js";
export { type ExecutionEvents, useExecutionEvents } from "./hooks/useExecutionEvents.js";
export { useKnowledgeBase } from "./hooks/useKnowledgeBase.js";
export { usePresence } from "./hooks/usePresence.js";
export { type SubmitError, useUserInput } from "./hooks/useUserInput.js";
export { useWebSocket } from "./hooks/useWebSocket.js";
export { type AgentView, type ToolCallView, applyAgentEvent, emptyAgent } from "./store/agent.js";
export {
  type ExecutionView,
  type NodeStatus,
  type NodeView,
  applyEvent,
  emptyExecution,
  snapshotView,
} from "./store/execution.js";
export { type DocumentView, type KbStepName, type KnowledgeBaseView, applyKbEvent, emptyKnowledgeBase } from "./store/kb.js";
export { EventLog } from "./store/log.js";
export {
  type ExecutionEntry,
  type FlowState,
  type FlowStore,
  type StoreOptions,
  DEFAULT_STORE_OPTIONS,
  agentKey,
  bindClient,
  createFlowStore,
} from "./store/store.js";
