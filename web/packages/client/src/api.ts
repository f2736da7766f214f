// The HTTP API of docs/protocol.md, same origin by default, `Authorization: Bearer`.
import { FlowMaestroError } from "./errors.js";
import type { ErrorBody, ErrorCode, FlowEvent, JsonValue, UserInputRequiredData } from "./events.js";

export type TokenSource = () => string | Promise<string>;

export type ExecutionStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export interface ExecutionSummary {
  executionId: string;
  flowName: string;
  status: ExecutionStatus;
  createdAt?: string | null;
  updatedAt?: string | null;
  [key: string]: unknown;
}

/** The filters of `GET /api/executions` (all optional; newest first). */
export interface ExecutionFilters {
  status?: ExecutionStatus;
  flow?: string;
  /** Created at or after / before (ISO 8601 with a zone, or a Date). */
  since?: string | Date;
  until?: string | Date;
  /** 1-500 (the server's default: 100). */
  limit?: number;
  /** A page's `nextCursor`, for the page after it. */
  cursor?: string;
}

export interface ExecutionPage {
  executions: ExecutionSummary[];
  /** The next page's `cursor`; null on the last page. */
  nextCursor: string | null;
}

/** `POST /api/executions/{id}/cancel`. */
export interface CancelResult {
  executionId: string;
  /** The status when the request was handled; a cancellation ends `cancelled`. */
  status: ExecutionStatus;
  /** False when the execution had already ended. */
  cancelRequested: boolean;
}

export type PendingInput = UserInputRequiredData;

/** `GET /api/executions/{id}`: the execution's state as of `position`. */
export interface ExecutionSnapshot extends ExecutionSummary {
  position: number;
  pendingInputs?: PendingInput[];
  nodes?: Record<string, SnapshotNode> | SnapshotNode[];
  outputs?: Record<string, JsonValue> | null;
  error?: { message: string; type: string } | null;
  /** null for executions recorded before the graph was. */
  graph?: FlowGraph | null;
}

/** The flow's nodes and `after` edges (a condition's branches too), as the UI draws them. */
export interface FlowGraph {
  nodes: {
    id: string;
    type: string;
    after: string[];
    branches?: { then?: string[]; else?: string[] };
    /** On agent nodes: the id in its `agent:{agentId}:{executionId}` channel. */
    agentId?: string;
  }[];
}

export interface SnapshotNode {
  nodeId: string;
  status: string;
  attempt?: number;
  durationMs?: number | null;
  progress?: number | null;
  [key: string]: unknown;
}

export interface KnowledgeBaseSummary {
  knowledgeBaseId: string;
  name: string;
  documentCount: number;
  createdAt: string;
}

export interface EventPage {
  events: FlowEvent[];
  /** The last event's position (or `after` when there was none): the next page's `after`. */
  position: number;
  /** False when history after `after` was pruned: reload the snapshot. */
  recovered: boolean;
}

export class FlowMaestroApi {
  constructor(
    private readonly token: TokenSource,
    private readonly baseUrl = "",
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  startExecution(flow: string, inputs: Record<string, JsonValue> = {}) {
    return this.request<{ executionId: string }>("POST", "/api/executions", { flow, inputs });
  }

  /** One page of the caller's executions, newest first, filtered by the server. */
  listExecutions(filters: ExecutionFilters = {}): Promise<ExecutionPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      if (value === undefined || value === null || value === "") continue;
      query.set(key, value instanceof Date ? value.toISOString() : String(value));
    }
    const suffix = query.size > 0 ? `?${query}` : "";
    return this.request<ExecutionPage>("GET", `/api/executions${suffix}`);
  }

  /** Every page of `listExecutions(filters)`, following `nextCursor`. */
  async *allExecutions(filters: Omit<ExecutionFilters, "cursor"> = {}): AsyncGenerator<ExecutionSummary> {
    let cursor: string | undefined;
    do {
      const page = await this.listExecutions({ ...filters, cursor });
      yield* page.executions;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Cancel the caller's execution (idempotent); its end arrives as `execution:failed` with
   * `error.type` `cancelled`. */
  cancelExecution(executionId: string) {
    return this.request<CancelResult>("POST", `/api/executions/${enc(executionId)}/cancel`);
  }

  getExecution(executionId: string) {
    return this.request<ExecutionSnapshot>("GET", `/api/executions/${enc(executionId)}`);
  }

  getEvents(executionId: string, after = 0, limit = 1000) {
    return this.request<EventPage>(
      "GET",
      `/api/executions/${enc(executionId)}/events?after=${after}&limit=${limit}`,
    );
  }

  uploadDocument(knowledgeBaseId: string, file: File) {
    const form = new FormData();
    form.append("file", file, file.name);
    return this.request<{ documentId: string; [key: string]: unknown }>(
      "POST",
      `/api/knowledge-bases/${enc(knowledgeBaseId)}/documents`,
      form,
    );
  }

  async listKnowledgeBases(): Promise<KnowledgeBaseSummary[]> {
    const body = await this.request<{ knowledgeBases: KnowledgeBaseSummary[] }>("GET", "/api/knowledge-bases");
    return body.knowledgeBases;
  }

  createKnowledgeBase(name: string) {
    return this.request<{ knowledgeBaseId: string; [key: string]: unknown }>(
      "POST",
      "/api/knowledge-bases",
      { name },
    );
  }

  /** `POST /api/executions/{id}/inputs/{inputId}`: the same checks and codes as the socket's
   * `user_input:provide` (a refusal throws FlowMaestroError with its code). */
  answerInput(executionId: string, inputId: string, value: JsonValue) {
    return this.request<{ ok: true; inputId: string; nodeId: string }>(
      "POST",
      `/api/executions/${enc(executionId)}/inputs/${enc(inputId)}`,
      { value },
    );
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.token()}` };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body: payload });
    } catch (err) {
      throw new FlowMaestroError("network", String(err));
    }
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) throw errorOf(response.status, parsed);
    return parsed as T;
  }
}

const enc = encodeURIComponent;

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "already_answered",
  410: "expired",
  413: "too_large",
  422: "bad_request",
  429: "rate_limited",
  503: "unavailable",
};

function errorOf(status: number, body: unknown): FlowMaestroError {
  // The gateway answers `{error: {code, message, details}}`; FastAPI's own errors `{detail}`.
  if (body !== null && typeof body === "object") {
    const error = (body as { error?: ErrorBody }).error;
    if (error && typeof error.code === "string") return FlowMaestroError.from(error);
    const detail = (body as { detail?: unknown }).detail;
    if (detail !== undefined) {
      const code = STATUS_CODES[status] ?? "internal";
      return new FlowMaestroError(code, typeof detail === "string" ? detail : JSON.stringify(detail), detail);
    }
  }
  return new FlowMaestroError(STATUS_CODES[status] ?? "internal", `HTTP ${status}`);
}
