/* Generated from the Python event and protocol models by `npm run gen:types`; do not edit.
 * Regenerate: .venv/bin/flowmaestro schema > web/packages/client/src/generated/wire.schema.json &&
 *             (cd web && npm run gen:types) */

/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "FlowEvent".
 */
export type FlowEvent =
  | ExecutionStarted
  | ExecutionUpdated
  | ExecutionCompleted
  | ExecutionFailed
  | NodeStarted
  | NodeCompleted
  | NodeFailed
  | NodeProgress
  | UserInputRequired
  | UserInputReceived
  | UserInputTimeout
  | KbUploadStarted
  | KbProcessing
  | KbUploadCompleted
  | KbUploadFailed
  | AgentStreamingStart
  | AgentToken
  | AgentToolCall
  | AgentStreamingEnd
  | AppEvent;
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "JsonValue".
 */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | {
      [k: string]: JsonValue;
    };

/**
 * Every event and protocol message of docs/protocol.md.
 */
export interface WireSchema {
  event: FlowEvent;
  connectOptions: ConnectOptions;
  subscribeRequest: SubscribeRequest;
  unsubscribeRequest: UnsubscribeRequest;
  provideInputRequest: ProvideInputRequest;
  authRefreshRequest: AuthRefreshRequest;
  subscribeAck: SubscribeAck;
  okAck: OkAck;
  errorAck: ErrorAck;
  connectErrorData: ConnectErrorData;
  authRefreshAck: AuthRefreshAck;
  authExpiring: AuthExpiring;
  authExpired: AuthExpired;
  presenceChange: PresenceChange;
  started: Started;
  executionList: ExecutionList;
  executionSnapshot: ExecutionSnapshot;
  inboxPage: InboxPage;
  eventPage: EventPage;
  answered: Answered;
  cancelResult: CancelResult;
  knowledgeBaseList: KnowledgeBaseList;
  knowledgeBaseCreated: KnowledgeBaseCreated;
  documentAccepted: DocumentAccepted;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionStarted".
 */
export interface ExecutionStarted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "execution:started";
  data: ExecutionStartedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionStartedData".
 */
export interface ExecutionStartedData {
  workflowId: string;
  status: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  startedAt: string;
  inputs: {
    [k: string]: JsonValue;
  };
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionUpdated".
 */
export interface ExecutionUpdated {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "execution:updated";
  data: ExecutionUpdatedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionUpdatedData".
 */
export interface ExecutionUpdatedData {
  status: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  currentNodeId: string | null;
  progress: number;
  completedNodes: number;
  totalNodes: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionCompleted".
 */
export interface ExecutionCompleted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "execution:completed";
  data: ExecutionCompletedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionCompletedData".
 */
export interface ExecutionCompletedData {
  outputs: {
    [k: string]: JsonValue;
  };
  durationMs: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionFailed".
 */
export interface ExecutionFailed {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "execution:failed";
  data: ExecutionFailedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionFailedData".
 */
export interface ExecutionFailedData {
  error: ErrorInfo;
  failedNodeId: string | null;
}
/**
 * A failure as clients see it: a human message and a machine-readable type.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ErrorInfo".
 */
export interface ErrorInfo {
  message: string;
  type: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeStarted".
 */
export interface NodeStarted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "node:started";
  data: NodeStartedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeStartedData".
 */
export interface NodeStartedData {
  nodeId: string;
  nodeType: string;
  attempt: number;
  inputs: {
    [k: string]: JsonValue;
  };
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeCompleted".
 */
export interface NodeCompleted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "node:completed";
  data: NodeCompletedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeCompletedData".
 */
export interface NodeCompletedData {
  nodeId: string;
  nodeType: string;
  outputs: JsonValue;
  durationMs: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeFailed".
 */
export interface NodeFailed {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "node:failed";
  data: NodeFailedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeFailedData".
 */
export interface NodeFailedData {
  nodeId: string;
  nodeType: string;
  error: ErrorInfo;
  attempt: number;
  /**
   * 0 means unlimited
   */
  maxAttempts: number;
  willRetry: boolean;
  nextRetryInMs: number | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeProgress".
 */
export interface NodeProgress {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "node:progress";
  data: NodeProgressData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "NodeProgressData".
 */
export interface NodeProgressData {
  nodeId: string;
  progress: number;
  step: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputRequired".
 */
export interface UserInputRequired {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "user_input:required";
  data: UserInputRequiredData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputRequiredData".
 */
export interface UserInputRequiredData {
  inputId: string;
  nodeId: string;
  prompt: string;
  inputType: "text" | "number" | "boolean" | "choice" | "json";
  schema: {
    [k: string]: JsonValue;
  };
  choices: JsonValue[] | null;
  timeoutSeconds: number | null;
  expiresAt: string | null;
  assignees?: Assignees | null;
  excludeRequester?: boolean;
}
/**
 * Who may answer a prompt: these users, and every member of these groups of the
 * execution's workspace (docs/teams.md).
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "Assignees".
 */
export interface Assignees {
  /**
   * @maxItems 100
   */
  users: string[];
  /**
   * @maxItems 100
   */
  groups: string[];
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputReceived".
 */
export interface UserInputReceived {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "user_input:received";
  data: UserInputReceivedData;
}
/**
 * The answer, with its audit (docs/teams.md): who gave it, when, through what. Events
 * recorded before the audit have none of it.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputReceivedData".
 */
export interface UserInputReceivedData {
  inputId: string;
  nodeId: string;
  answeredBy?: string | null;
  answeredAt?: string | null;
  client?: ("socketio" | "http" | "temporal") | null;
  value?:
    | string
    | number
    | boolean
    | null
    | JsonValue[]
    | {
        [k: string]: JsonValue;
      };
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputTimeout".
 */
export interface UserInputTimeout {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "user_input:timeout";
  data: UserInputTimeoutData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UserInputTimeoutData".
 */
export interface UserInputTimeoutData {
  inputId: string;
  nodeId: string;
  timeoutSeconds: number;
  onTimeout: "fail" | "default" | "skip";
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadStarted".
 */
export interface KbUploadStarted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "kb:upload_started";
  data: KbUploadStartedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadStartedData".
 */
export interface KbUploadStartedData {
  knowledgeBaseId: string;
  documentId: string;
  fileName: string;
  fileSize: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbProcessing".
 */
export interface KbProcessing {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "kb:processing";
  data: KbProcessingData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbProcessingData".
 */
export interface KbProcessingData {
  documentId: string;
  step: "extraction" | "chunking" | "embedding" | "storage";
  progress: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadCompleted".
 */
export interface KbUploadCompleted {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "kb:upload_completed";
  data: KbUploadCompletedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadCompletedData".
 */
export interface KbUploadCompletedData {
  documentId: string;
  chunkCount: number;
  embeddingCount: number;
  durationMs: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadFailed".
 */
export interface KbUploadFailed {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "kb:upload_failed";
  data: KbUploadFailedData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KbUploadFailedData".
 */
export interface KbUploadFailedData {
  documentId: string;
  step: "extraction" | "chunking" | "embedding" | "storage";
  error: ErrorInfo;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentStreamingStart".
 */
export interface AgentStreamingStart {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "agent:streaming_start";
  data: AgentStreamingStartData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentStreamingStartData".
 */
export interface AgentStreamingStartData {
  agentId: string;
  nodeId: string;
  model: string;
  attempt: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentToken".
 */
export interface AgentToken {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "agent:token";
  data: AgentTokenData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentTokenData".
 */
export interface AgentTokenData {
  token: string;
  index: number;
  /**
   * characters of the response before this token
   */
  offset: number;
  attempt: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentToolCall".
 */
export interface AgentToolCall {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "agent:tool_call";
  data: AgentToolCallData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentToolCallData".
 */
export interface AgentToolCallData {
  toolCallId: string;
  toolName: string;
  arguments: {
    [k: string]: JsonValue;
  };
  status: "started" | "completed" | "failed";
  result:
    | string
    | number
    | boolean
    | null
    | JsonValue[]
    | {
        [k: string]: JsonValue;
      };
  error: ErrorInfo | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentStreamingEnd".
 */
export interface AgentStreamingEnd {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: "agent:streaming_end";
  data: AgentStreamingEndData;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AgentStreamingEndData".
 */
export interface AgentStreamingEndData {
  response: string;
  tokenCount: number;
  finishReason: string;
  attempt: number;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AppEvent".
 */
export interface AppEvent {
  id: string;
  position: number | null;
  timestamp: string;
  userId: string;
  executionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  knowledgeBaseId: string | null;
  type: `app:${string}`;
  data: unknown;
}
/**
 * What the `auth` payload of a connect may carry besides the token. With `after`, the
 * connect resumes: the user channel's events after it come before any live one. `batch`
 * asks for `events` messages.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ConnectOptions".
 */
export interface ConnectOptions {
  after?: number | null;
  batch?: boolean;
}
/**
 * `channel`, or several `channels` resumed with one cursor `after` (their events after
 * it arrive once each, in position order). `batch` asks for `events` messages.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "SubscribeRequest".
 */
export interface SubscribeRequest {
  channel?: string | null;
  channels?: [string, ...string[]] | null;
  after?: number | null;
  batch?: boolean;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "UnsubscribeRequest".
 */
export interface UnsubscribeRequest {
  channel: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ProvideInputRequest".
 */
export interface ProvideInputRequest {
  executionId: string;
  inputId: string;
  value: JsonValue;
}
/**
 * `auth:refresh`: a fresh token for the same `sub`, before the current one expires.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AuthRefreshRequest".
 */
export interface AuthRefreshRequest {
  token: string;
}
/**
 * `position` is the position the live stream continues from; `recovered` is False when
 * `after` predates the retained history, so the client must reload state. `channel` is the
 * (first) channel subscribed, `channels` every channel of the request. `replayed`
 * counts every event sent before the ack: the replay and the live events held behind it.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "SubscribeAck".
 */
export interface SubscribeAck {
  ok: true;
  channel: string;
  channels: string[];
  position: number;
  replayed: number;
  recovered: boolean;
  presence: string[] | null;
  presences: {
    [k: string]: string[];
  } | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "OkAck".
 */
export interface OkAck {
  ok: true;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ErrorAck".
 */
export interface ErrorAck {
  ok: false;
  error: ErrorBody;
}
/**
 * A refusal: a machine-readable code, a human message, optional details.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ErrorBody".
 */
export interface ErrorBody {
  code:
    | "bad_request"
    | "unauthorized"
    | "forbidden"
    | "not_found"
    | "invalid_input"
    | "already_answered"
    | "expired"
    | "rate_limited"
    | "quota_exceeded"
    | "too_large"
    | "unavailable"
    | "internal";
  message: string;
  details:
    | string
    | number
    | boolean
    | null
    | JsonValue[]
    | {
        [k: string]: JsonValue;
      };
}
/**
 * The `data` of a refused connection's `connect_error`.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ConnectErrorData".
 */
export interface ConnectErrorData {
  code:
    | "bad_request"
    | "unauthorized"
    | "forbidden"
    | "not_found"
    | "invalid_input"
    | "already_answered"
    | "expired"
    | "rate_limited"
    | "quota_exceeded"
    | "too_large"
    | "unavailable"
    | "internal";
  message: string;
}
/**
 * The socket stays authorized until `exp` (seconds since the epoch).
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AuthRefreshAck".
 */
export interface AuthRefreshAck {
  ok: true;
  exp: number;
}
/**
 * Server event `auth:expiring`: the socket's token expires at `exp` (seconds since the
 * epoch); send `auth:refresh` before then or be disconnected.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AuthExpiring".
 */
export interface AuthExpiring {
  exp: number;
}
/**
 * Server event `auth:expired`, sent just before the gateway disconnects a socket whose
 * token has expired: reconnect with a fresh token.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "AuthExpired".
 */
export interface AuthExpired {
  reason: "token_expired";
  message: string;
}
/**
 * The data of `presence:join` and `presence:leave`: `user_id` started (or stopped)
 * watching `channel` on some connection other than the receiving one.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "PresenceChange".
 */
export interface PresenceChange {
  channel: string;
  userId: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "Started".
 */
export interface Started {
  executionId: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionList".
 */
export interface ExecutionList {
  executions: ExecutionSummary[];
  /**
   * the next page's `cursor`; null on the last page
   */
  nextCursor: string | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionSummary".
 */
export interface ExecutionSummary {
  executionId: string;
  flowName: string;
  ownerId: string;
  visibility: "private" | "workspace";
  status: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  createdAt: string;
  updatedAt: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "ExecutionSnapshot".
 */
export interface ExecutionSnapshot {
  executionId: string;
  flowName: string;
  ownerId: string;
  visibility: "private" | "workspace";
  status: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  createdAt: string;
  updatedAt: string;
  runId: string | null;
  inputs: {
    [k: string]: JsonValue;
  };
  graph: Graph | null;
  /**
   * the state is current as of this position
   */
  position: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  currentNodeId: string | null;
  progress: number;
  completedNodes: number;
  totalNodes: number | null;
  nodes: SnapshotNode[];
  pendingInputs: UserInputRequiredData[];
  /**
   * who answered each prompt, when and how (docs/teams.md, Audit)
   */
  answers: UserInputReceivedData[];
  outputs: JsonValue;
  error: ErrorInfo | null;
  failedNodeId: string | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "Graph".
 */
export interface Graph {
  nodes: GraphNode[];
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "GraphNode".
 */
export interface GraphNode {
  id: string;
  type: string;
  after: string[];
  branches?: {
    [k: string]: string[];
  } | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "SnapshotNode".
 */
export interface SnapshotNode {
  nodeId: string;
  nodeType: string;
  status: string;
  attempt: number;
  maxAttempts: number | null;
  durationMs: number | null;
  progress: number | null;
  lastError: ErrorInfo | null;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "InboxPage".
 */
export interface InboxPage {
  prompts: InboxPrompt[];
  /**
   * the next page's `cursor`; null on the last page
   */
  nextCursor: string | null;
}
/**
 * An open prompt of the inbox: the prompt as announced, and whose execution it is.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "InboxPrompt".
 */
export interface InboxPrompt {
  inputId: string;
  nodeId: string;
  prompt: string;
  inputType: "text" | "number" | "boolean" | "choice" | "json";
  schema: {
    [k: string]: JsonValue;
  };
  choices?: JsonValue[] | null;
  timeoutSeconds?: number | null;
  expiresAt?: string | null;
  assignees?: Assignees | null;
  excludeRequester?: boolean;
  executionId: string;
  flowName: string;
  ownerId: string;
  askedAt: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "EventPage".
 */
export interface EventPage {
  /**
   * envelopes in position order
   */
  events: {
    [k: string]: unknown;
  }[];
  /**
   * the last event's position: the next page's `after`
   */
  position: number;
  /**
   * false when history after `after` was pruned
   */
  recovered: boolean;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "Answered".
 */
export interface Answered {
  ok: true;
  inputId: string;
  nodeId: string;
}
/**
 * `POST /api/executions/{id}/cancel`: what the request did.
 *
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "CancelResult".
 */
export interface CancelResult {
  executionId: string;
  status: "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";
  cancelRequested: boolean;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KnowledgeBaseList".
 */
export interface KnowledgeBaseList {
  knowledgeBases: KnowledgeBaseSummary[];
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KnowledgeBaseSummary".
 */
export interface KnowledgeBaseSummary {
  knowledgeBaseId: string;
  name: string;
  documentCount: number;
  createdAt: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "KnowledgeBaseCreated".
 */
export interface KnowledgeBaseCreated {
  knowledgeBaseId: string;
}
/**
 * This interface was referenced by `WireSchema`'s JSON-Schema
 * via the `definition` "DocumentAccepted".
 */
export interface DocumentAccepted {
  documentId: string;
  workflowId: string;
}
