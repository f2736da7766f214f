export { FlowMaestroProvider, useChannel, useFlowMaestro, useFlowState } from "./context";
export { useAgentStreaming } from "./useAgentStreaming";
export { useExecutionEvents } from "./useExecutionEvents";
export { useKnowledgeBase } from "./useKnowledgeBase";
export { usePresence } from "./usePresence";
export { type SubmitError, useUserInput } from "./useUserInput";
export { useWebSocket } from "./useWebSocket";
