// The stateless fallback transport (docs/transports.md): one server-sent-event stream,
// `GET /api/stream?channel=...`, of every subscribed channel, resumed by one Last-Event-ID.
// It is read with fetch streaming rather than EventSource so that the token travels in the
// Authorization header, never in a URL that proxies and servers log.
import type { TokenSource } from "./api.js";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from "./backoff.js";
import { FlowMaestroError } from "./errors.js";
import type { ErrorBody } from "./events.js";

/** The stream's `ready` event: everything of `channels` up to `position` has been sent. */
export interface StreamReady {
  channels: string[];
  position: number;
  recovered: boolean;
}

export interface StreamHandlers {
  event(name: string, payload: unknown): void;
  ready(ready: StreamReady): void;
  /** The stream failed (it is retried with backoff); `error.code` says why. */
  failed(error: FlowMaestroError): void;
}

export interface StreamOptions {
  baseUrl: string;
  token: TokenSource;
  fetchImpl?: typeof fetch;
  backoff?: BackoffOptions;
  random?: () => number;
}

export class EventStream {
  private readonly fetchImpl: typeof fetch;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private channels: string[] = [];
  private controller: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private attempts = 0;
  /** The server ended the stream at the token's expiry: reopen at once, with a fresh one. */
  private renew = false;
  /** The last id the stream sent (an event's position, or a `ready`'s). */
  lastId: number | null = null;
  running = false;

  constructor(
    private readonly options: StreamOptions,
    private readonly handlers: StreamHandlers,
  ) {
    this.fetchImpl = options.fetchImpl ?? ((...args) => fetch(...args));
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
  }

  /**
   * (Re)open the stream with `channels`, resuming after `after` (null: live from now). A
   * reopen never resumes later than where the previous stream got to.
   */
  open(channels: string[], after: number | null): void {
    this.close();
    this.running = true;
    this.channels = channels;
    if (after !== null) this.lastId = this.lastId === null ? after : Math.min(this.lastId, after);
    this.attempts = 0;
    void this.run(this.generation);
  }

  /** Close, and forget the position: a later `open` starts where it is told. */
  stop(): void {
    this.close();
    this.lastId = null;
  }

  close(): void {
    this.running = false;
    this.generation += 1;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort();
    this.controller = null;
  }

  private async run(generation: number): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const params = new URLSearchParams();
    for (const channel of this.channels) params.append("channel", channel);
    try {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${await this.options.token()}`,
        Accept: "text/event-stream",
      };
      if (this.lastId !== null) headers["Last-Event-ID"] = String(this.lastId);
      const response = await this.fetchImpl(`${this.options.baseUrl}/api/stream?${params}`, {
        headers,
        signal: controller.signal,
        cache: "no-store",
      });
      if (!response.ok || response.body === null) {
        throw await refusal(response);
      }
      await this.read(response.body, generation);
      if (generation !== this.generation) return;
      if (this.renew) {
        this.renew = false;
        void this.run(generation);
        return;
      }
      throw new FlowMaestroError("network", "the stream ended");
    } catch (err) {
      if (generation !== this.generation) return; // closed or reopened meanwhile
      this.handlers.failed(err instanceof FlowMaestroError ? err : new FlowMaestroError("network", String(err)));
    }
    if (generation !== this.generation) return;
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (generation === this.generation) void this.run(generation);
    }, backoffDelay(this.attempts, this.backoff, this.random));
  }

  private async read(body: ReadableStream<Uint8Array>, generation: number): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || generation !== this.generation) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (generation !== this.generation) return;
          this.frame(block);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private frame(block: string): void {
    let id: string | null = null;
    let name = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // a keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    this.attempts = 0; // the stream works: the next failure starts the backoff afresh
    if (name === "auth:expired") {
      this.renew = true;
      return;
    }
    const payload: unknown = JSON.parse(data.join("\n"));
    if (id !== null) this.lastId = Number(id);
    if (name === "ready") this.handlers.ready(payload as StreamReady);
    else this.handlers.event(name, payload);
  }
}

async function refusal(response: Response): Promise<FlowMaestroError> {
  let body: { error?: ErrorBody } | null = null;
  try {
    body = (await response.json()) as { error?: ErrorBody };
  } catch {
    body = null;
  }
  if (body?.error && typeof body.error.code === "string") return FlowMaestroError.from(body.error);
  return new FlowMaestroError(response.status >= 500 ? "internal" : "network", `HTTP ${response.status}`);
}

/** The `sub` of a JWT (unverified: only to name the user's own channel), or null. */
export function subjectOf(token: string): string | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === "string" && sub ? sub : null;
  } catch {
    return null;
  }
}
