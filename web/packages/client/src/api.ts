// The HTTP API of docs/protocol.md, same origin by default, `Authorization: Bearer`.
import { FlowMaestroError } from "./errors.js";
import type {
  Answered,
  CancelResult,
  DocumentAccepted,
  ErrorBody,
  ErrorCode,
  ExecutionSummary,
  FlowEvent,
  InboxPage,
  JsonValue,
  KnowledgeBaseCreated,
  KnowledgeBaseList,
  KnowledgeBaseSummary,
  Started,
  UserInputRequiredData,
} from "./events.js";
import type * as Wire from "./generated/wire.js";

export type TokenSource = () => string | Promise<string>;

// The bodies are the gateway's own models (gateway/api_models.py, the success schemas of its
// OpenAPI document), generated into ./generated/wire.ts with the event types.
export type ExecutionStatus = ExecutionSummary["status"];
export type PendingInput = UserInputRequiredData;
/** `GET /api/executions/{id}`: the execution's state as of `position`. */
export type ExecutionSnapshot = Wire.ExecutionSnapshot;
/** The flow's nodes and `after` edges (a condition's branches too), as the UI draws them. */
export type FlowGraph = Wire.Graph;
/** `GET /api/executions`: a page, newest first. */
export type ExecutionPage = Wire.ExecutionList;
/** `GET /api/executions/{id}/events`: catch-up, in position order. */
export type EventPage = Omit<Wire.EventPage, "events"> & { events: FlowEvent[] };

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

export class FlowMaestroApi {
  constructor(
    private readonly token: TokenSource,
    private readonly baseUrl = "",
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  startExecution(flow: string, inputs: Record<string, JsonValue> = {}) {
    return this.request<Started>("POST", "/api/executions", { flow, inputs });
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

  /** The open prompts waiting for the caller, oldest first; `cursor` is a page's
   * `nextCursor`. */
  inbox(cursor?: string): Promise<InboxPage> {
    const suffix = cursor === undefined ? "" : `?cursor=${encodeURIComponent(cursor)}`;
    return this.request<InboxPage>("GET", `/api/inbox${suffix}`);
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
    return this.request<DocumentAccepted>(
      "POST",
      `/api/knowledge-bases/${enc(knowledgeBaseId)}/documents`,
      form,
    );
  }

  async listKnowledgeBases(): Promise<KnowledgeBaseSummary[]> {
    const body = await this.request<KnowledgeBaseList>("GET", "/api/knowledge-bases");
    return body.knowledgeBases;
  }

  createKnowledgeBase(name: string) {
    return this.request<KnowledgeBaseCreated>(
      "POST",
      "/api/knowledge-bases",
      { name },
    );
  }

  /** `POST /api/executions/{id}/inputs/{inputId}`: the same checks and codes as the socket's
   * `user_input:provide` (a refusal throws FlowMaestroError with its code). */
  answerInput(executionId: string, inputId: string, value: JsonValue) {
    return this.request<Answered>(
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
