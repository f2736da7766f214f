import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nodeCompleted, nodeStarted } from "../../../testing/events";
import { FakeSocket } from "../../../testing/fakeSocket";
import { FakeStreamServer, tokenFor } from "../../../testing/fakeStream";
import { FlowMaestroApi } from "./api.js";
import { FlowMaestroClient } from "./client.js";
import type { SubscribeRequest } from "./events.js";
import { subjectOf } from "./fallback.js";

const TOKEN = tokenFor("u1");
const BACKOFF = { baseMs: 100, maxMs: 400 };

function setup(options: { fallback?: false } = {}) {
  const socket = new FakeSocket();
  const server = new FakeStreamServer();
  socket.answer["subscribe"] = (req: SubscribeRequest) => ({
    ok: true,
    channel: req.channel,
    position: req.after ?? 0,
    replayed: 0,
    recovered: true,
  });
  socket.answer["unsubscribe"] = () => ({ ok: true });
  const client = new FlowMaestroClient({
    token: TOKEN,
    socketFactory: socket.factory,
    random: () => 0.5,
    backoff: BACKOFF,
    api: new FlowMaestroApi(() => TOKEN, "", server.fetch),
    fallback: options.fallback ?? { fetchImpl: server.fetch },
  });
  const positions: number[] = [];
  client.onEvent((e) => positions.push(e.position as number));
  return { socket, server, client, positions };
}

/** Two websocket attempts refused (as by a proxy that answers upgrades with 403). */
async function refuseWebSocket(socket: FakeSocket): Promise<void> {
  socket.fire("connect_error", new Error("websocket error"));
  await vi.advanceTimersByTimeAsync(400);
  socket.fire("connect_error", new Error("websocket error"));
  await vi.advanceTimersByTimeAsync(0);
}

describe("the SSE fallback", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("takes over when the websocket cannot connect: every event once, in order, live", async () => {
    const { socket, server, client, positions } = setup();
    client.connect();
    client.subscribe("execution:ex_1", 0);
    await refuseWebSocket(socket);

    const [request] = server.streamRequests();
    expect(request).toBeDefined();
    const url = new URL(request!.url, "http://gateway");
    expect(url.pathname).toBe("/api/stream");
    expect(url.searchParams.getAll("channel")).toEqual(["execution:ex_1", "user:u1"]);
    expect(url.search).not.toContain(TOKEN); // the token is a header, never in the URL
    expect(request!.headers["Authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers["Last-Event-ID"]).toBe("0");
    expect(client.state).toBe("reconnecting");

    server.event(nodeStarted(1, "n1"));
    server.event(nodeCompleted(2, "n1"));
    server.ready(["execution:ex_1", "user:u1"], 2);
    server.event(nodeStarted(3, "n2"));
    await vi.advanceTimersByTimeAsync(0);
    expect(positions).toEqual([1, 2, 3]);
    expect(client.state).toBe("connected");
    expect(client.transport).toBe("sse");
    expect(client.channelStatus("execution:ex_1")).toEqual({ position: 3, live: true, error: null });

    // The websocket probes keep failing: the application stays connected.
    socket.fire("connect_error", new Error("websocket error"));
    expect(client.state).toBe("connected");
  });

  it("answers prompts over HTTP while on the stream", async () => {
    const { socket, server, client } = setup();
    client.connect();
    await refuseWebSocket(socket);
    const result = await client.provideInput("ex_1", "in_1", true);
    expect(result).toEqual({ ok: true });
    const post = server.requests.find((r) => r.method === "POST");
    expect(post?.url).toBe("/api/executions/ex_1/inputs/in_1");
    expect(JSON.parse(post?.body ?? "null")).toEqual({ value: true });

    server.answerPost = () =>
      Response.json({ error: { code: "already_answered", message: "answered", details: null } }, { status: 409 });
    const refused = await client.provideInput("ex_1", "in_1", false);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe("already_answered");
  });

  it("resumes a dropped stream from its last id", async () => {
    const { socket, server, client, positions } = setup();
    client.connect();
    client.subscribe("execution:ex_1", 0);
    await refuseWebSocket(socket);
    server.ready(["execution:ex_1", "user:u1"], 0);
    server.event(nodeStarted(4, "n1"));
    await vi.advanceTimersByTimeAsync(0);
    server.end();
    await vi.advanceTimersByTimeAsync(400);
    const requests = server.streamRequests();
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers["Last-Event-ID"]).toBe("4");
    server.event(nodeStarted(4, "n1")); // a resume that overlaps: dropped
    server.ready(["execution:ex_1", "user:u1"], 4);
    server.event(nodeCompleted(5, "n1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(positions).toEqual([4, 5]);
  });

  it("reopens at once with a fresh token when the server ends the stream at the token's expiry", async () => {
    const { socket, server, client, positions } = setup();
    const states: string[] = [];
    client.onState((state) => states.push(state));
    client.connect();
    client.subscribe("execution:ex_1", 0);
    await refuseWebSocket(socket);
    server.ready(["execution:ex_1", "user:u1"], 0);
    server.event(nodeStarted(1, "n1"));
    await vi.advanceTimersByTimeAsync(0);
    states.length = 0;
    server.send('event: auth:expired\ndata: {"reason":"token_expired","message":"expired"}\n\n');
    server.end();
    await vi.advanceTimersByTimeAsync(0);
    const requests = server.streamRequests();
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers["Last-Event-ID"]).toBe("1");
    server.event(nodeCompleted(2, "n1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(positions).toEqual([1, 2]);
    expect(states).not.toContain("reconnecting");
  });

  it("returns to the websocket with no missing or doubled event at the switch", async () => {
    const { socket, server, client, positions } = setup();
    client.connect();
    client.subscribe("execution:ex_1", 0);
    await refuseWebSocket(socket);
    server.ready(["execution:ex_1", "user:u1"], 0);
    server.event(nodeStarted(1, "n1"));
    server.event(nodeCompleted(2, "n1"));
    await vi.advanceTimersByTimeAsync(0);
    const stream = server.streamRequests()[0]!;

    // A probe gets through: the websocket replays after the channel's position (2) while
    // the stream still runs; both send 3, and the stream is closed once the ack is in.
    socket.answer["subscribe"] = (req: SubscribeRequest) => {
      server.event(nodeStarted(3, "n2"));
      socket.deliver("node:started", nodeStarted(3, "n2"));
      socket.deliver("node:completed", nodeCompleted(4, "n2"));
      return { ok: true, channel: req.channel, position: 4, replayed: 2, recovered: true };
    };
    await vi.advanceTimersByTimeAsync(400);
    socket.fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.subscribes().at(-1)).toEqual({ channel: "execution:ex_1", after: 2 });
    expect(stream.signal?.aborted).toBe(true);
    expect(client.transport).toBe("websocket");
    server.event(nodeCompleted(4, "n2")); // a frame after the abort is never read
    socket.deliver("execution:completed", {
      ...nodeCompleted(5, "n2"),
      type: "execution:completed",
      data: { outputs: {}, durationMs: 1 },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(positions).toEqual([1, 2, 3, 4, 5]);
    expect(client.state).toBe("connected");
  });

  it("counts a websocket cut right after it opened as a failure", async () => {
    const { socket, server, client } = setup();
    client.connect();
    socket.fire("connect");
    socket.fire("disconnect", "transport close");
    await vi.advanceTimersByTimeAsync(400);
    expect(server.streamRequests()).toHaveLength(0);
    socket.fire("connect");
    socket.fire("disconnect", "transport close");
    await vi.advanceTimersByTimeAsync(0);
    expect(server.streamRequests()).toHaveLength(1);
  });

  it("reopens the stream from the oldest position when a channel is added", async () => {
    const { socket, server, client } = setup();
    client.connect();
    client.subscribe("execution:ex_1", 0);
    await refuseWebSocket(socket);
    server.ready(["execution:ex_1", "user:u1"], 9);
    await vi.advanceTimersByTimeAsync(0);
    client.subscribe("kb:kb_1", 3);
    await vi.advanceTimersByTimeAsync(0);
    const [first, second] = server.streamRequests();
    expect(first!.signal?.aborted).toBe(true);
    expect(new URL(second!.url, "http://gateway").searchParams.getAll("channel")).toEqual([
      "execution:ex_1",
      "kb:kb_1",
      "user:u1",
    ]);
    expect(second!.headers["Last-Event-ID"]).toBe("3");
  });

  it("can be turned off", async () => {
    const { socket, server, client } = setup({ fallback: false });
    client.connect();
    await refuseWebSocket(socket);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.requests).toHaveLength(0);
    expect(client.state).toBe("reconnecting");
  });
});

describe("subjectOf", () => {
  it("reads a JWT's sub, and nothing from a token that is not one", () => {
    expect(subjectOf(tokenFor("alice"))).toBe("alice");
    expect(subjectOf("opaque")).toBeNull();
    expect(subjectOf("a.%%%.c")).toBeNull();
  });
});
