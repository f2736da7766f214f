// A stand-in for the gateway's HTTP side: the test plays `GET /api/stream` (frames it sends
// when it likes) and `POST .../inputs/...`, through the fetch the client is given.
import type { FlowEvent } from "@flowmaestro/client";

export interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  signal: AbortSignal | null;
}

export class FakeStreamServer {
  requests: Request[] = [];
  private streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  private readonly encoder = new TextEncoder();
  /** The answer to a POST, by default `{ok: true}`. */
  answerPost: (request: Request) => Response = () =>
    Response.json({ ok: true, inputId: "in_1", nodeId: "approve" });

  fetch: typeof fetch = async (input, init) => {
    const request: Request = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === "string" ? init.body : null,
      signal: init?.signal ?? null,
    };
    this.requests.push(request);
    if (request.method !== "GET") return this.answerPost(request);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.streams.push(controller);
        request.signal?.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
      },
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  };

  streamRequests(): Request[] {
    return this.requests.filter((r) => r.method === "GET");
  }

  /** The open stream (the latest request) gets one event frame. */
  event(event: FlowEvent): void {
    this.send(`id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  ready(channels: string[], position: number, recovered = true): void {
    this.send(`id: ${position}\nevent: ready\ndata: ${JSON.stringify({ channels, position, recovered })}\n\n`);
  }

  send(text: string): void {
    try {
      this.streams.at(-1)?.enqueue(this.encoder.encode(text));
    } catch {
      // The client aborted that stream: nothing reaches it any more.
    }
  }

  /** The open stream ends (as when its gateway dies). */
  end(): void {
    this.streams.at(-1)?.close();
  }
}

/** An unsigned JWT-shaped token naming `sub` (the fake server does not verify it). */
export function tokenFor(sub: string): string {
  const part = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub, exp: 4102444800 })}.sig`;
}
