// A stand-in for socket.io-client's Socket: the test plays the server.
import type { SocketFactory, SocketLike } from "@flowmaestro/client";

type Handler = (...args: never[]) => void;

export class FakeSocket {
  options: Record<string, unknown> = {};
  connects = 0;
  disconnects = 0;
  sent: Array<{ event: string; data: unknown }> = [];
  private readonly handlers = new Map<string, Handler[]>();
  private anyHandler: ((name: string, payload: unknown) => void) | null = null;
  /** The server's answer to each emit-with-ack, by event name. */
  answer: Record<string, (data: never) => unknown> = {};

  factory: SocketFactory = (_url, options) => {
    this.options = options as Record<string, unknown>;
    return this as unknown as SocketLike;
  };

  on(event: string, handler: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }

  onAny(handler: (name: string, payload: unknown) => void) {
    this.anyHandler = handler;
    return this;
  }

  connect() {
    this.connects += 1;
    return this;
  }

  disconnect() {
    this.disconnects += 1;
    this.fire("disconnect", "io client disconnect");
    return this;
  }

  timeout(_ms: number) {
    return {
      emitWithAck: async (event: string, data: unknown) => {
        this.sent.push({ event, data });
        const answer = this.answer[event];
        if (!answer) throw new Error(`no answer for ${event}`);
        return answer(data as never);
      },
    };
  }

  /** What the client's auth callback hands to the handshake. */
  async auth(): Promise<Record<string, unknown>> {
    const auth = this.options["auth"] as (cb: (data: Record<string, unknown>) => void) => void;
    return new Promise((resolve) => auth(resolve));
  }

  /** The token the client's auth callback hands to the handshake. */
  async authToken(): Promise<unknown> {
    return (await this.auth())["token"];
  }

  fire(event: string, ...args: unknown[]) {
    for (const h of this.handlers.get(event) ?? []) (h as (...a: unknown[]) => void)(...args);
  }

  deliver(name: string, payload: unknown) {
    this.anyHandler?.(name, payload);
  }

  subscribes() {
    return this.sent.filter((s) => s.event === "subscribe").map((s) => s.data);
  }
}
