import { describe, expect, it, vi } from "vitest";
import { FakeSocket } from "../../../testing/fakeSocket";
import { nodeCompleted, nodeStarted, snapshotOf } from "../../../testing/events";
import { FlowMaestroApi, type ExecutionSnapshot } from "./api.js";
import { backoffDelay } from "./backoff.js";
import { FlowMaestroClient } from "./client.js";
import type { FlowEvent, SubscribeRequest } from "./events.js";

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(options: { getToken?: () => string; api?: FlowMaestroApi } = {}) {
  const socket = new FakeSocket();
  socket.answer["subscribe"] = (req: SubscribeRequest) => ({
    ok: true,
    channel: req.channel ?? req.channels?.[0],
    channels: req.channels ?? [req.channel],
    position: req.after ?? 0,
    replayed: 0,
    recovered: true,
  });
  socket.answer["unsubscribe"] = () => ({ ok: true });
  const client = new FlowMaestroClient({
    token: options.getToken ? undefined : "t0",
    getToken: options.getToken,
    socketFactory: socket.factory,
    random: () => 0.5,
    api: options.api,
  });
  return { socket, client };
}

describe("FlowMaestroClient", () => {
  it("uses only the websocket transport and runs its own reconnection", () => {
    const { socket } = setup();
    expect(socket.options["transports"]).toEqual(["websocket"]);
    expect(socket.options["reconnection"]).toBe(false);
  });

  it("hands each position to handlers once, typed by event name", () => {
    const { socket, client } = setup();
    const seen: FlowEvent[] = [];
    const completed: number[] = [];
    client.onEvent((e) => seen.push(e));
    client.on("node:completed", (e) => completed.push(e.data.durationMs));
    const e = nodeCompleted(3, "n1", 42);
    socket.deliver("node:completed", e);
    socket.deliver("node:completed", { ...e });
    socket.deliver("node:started", nodeStarted(2, "n1"));
    expect(seen.map((x) => x.position)).toEqual([3, 2]);
    expect(completed).toEqual([42]);
  });

  it("resumes every channel after its last position, with no gap, after a reconnect", async () => {
    vi.useFakeTimers();
    try {
      const { socket, client } = setup();
      client.connect();
      socket.fire("connect");
      client.subscribe("execution:ex_1", 0);
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.subscribes()).toEqual([{ channel: "execution:ex_1", after: 0 }]);
      socket.deliver("node:started", nodeStarted(7, "n1"));
      expect(client.channelStatus("execution:ex_1")?.position).toBe(7);

      socket.fire("disconnect", "transport close");
      expect(client.state).toBe("reconnecting");
      // Delivered while the channel is not live (a replay in flight): must not move the
      // resume point, or a drop now would skip whatever the replay had not sent yet.
      socket.deliver("node:completed", nodeCompleted(9, "n1"));
      const before = socket.connects;
      await vi.advanceTimersByTimeAsync(backoffDelay(1, undefined, () => 0.5));
      expect(socket.connects).toBe(before + 1);
      socket.fire("connect");
      await vi.advanceTimersByTimeAsync(0);
      expect(client.state).toBe("connected");
      expect(socket.subscribes()[1]).toEqual({ channel: "execution:ex_1", after: 7 });
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for batches and hands out a batch's envelopes in order", () => {
    const { socket, client } = setup();
    const seen: number[] = [];
    client.onEvent((e) => seen.push(e.position ?? -1));
    socket.deliver("events", [nodeStarted(4, "n1"), nodeCompleted(5, "n1"), nodeCompleted(5, "n1")]);
    socket.deliver("events", [nodeStarted(6, "n2")]);
    expect(seen).toEqual([4, 5, 6]);
  });

  it("resumes every live channel with one subscribe and the connect with one cursor", async () => {
    vi.useFakeTimers();
    try {
      const { socket, client } = setup();
      client.connect();
      expect(await socket.auth()).toEqual({ token: "t0", batch: true });
      socket.fire("connect");
      client.subscribe("execution:ex_1", 0);
      client.subscribe("kb:kb1", null);
      await vi.advanceTimersByTimeAsync(0);
      socket.deliver("events", [nodeStarted(7, "n1"), nodeCompleted(8, "n1")]);
      socket.fire("disconnect", "transport close");
      client.subscribe("execution:ex_2", 0);
      await vi.advanceTimersByTimeAsync(backoffDelay(1, undefined, () => 0.5));
      expect(await socket.auth()).toEqual({ token: "t0", batch: true, after: 8 });
      socket.fire("connect");
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.subscribes().slice(2)).toEqual([
        { channel: "execution:ex_2", after: 0 },
        { channels: ["execution:ex_1", "kb:kb1"], after: 8 },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes the subscribe ack's position as the resume point", async () => {
    const { socket, client } = setup();
    socket.answer["subscribe"] = (req: SubscribeRequest) => ({
      ok: true, channel: req.channel, channels: [req.channel], position: 40, replayed: 40, recovered: true,
    });
    client.connect();
    socket.fire("connect");
    client.subscribe("kb:kb1");
    await flush();
    expect(client.channelStatus("kb:kb1")).toEqual({ position: 40, live: true, error: null });
  });

  it("reports a refused subscribe's code on the channel", async () => {
    const { socket, client } = setup();
    socket.answer["subscribe"] = () => ({ ok: false, error: { code: "forbidden", message: "not yours", details: null } });
    const statuses: unknown[] = [];
    client.onChannel((channel, status) => statuses.push([channel, status.live, status.error?.code]));
    client.connect();
    socket.fire("connect");
    client.subscribe("execution:ex_9", 0);
    await flush();
    expect(statuses).toEqual([["execution:ex_9", false, "forbidden"]]);
    expect(client.error?.code).toBe("forbidden");
  });

  it("starts an execution from its HTTP snapshot, not from 0, unless the history is asked for", async () => {
    const snapshot = snapshotOf({ executionId: "ex_1", position: 42 });
    const fetchImpl = async () => new Response(JSON.stringify(snapshot), { status: 200 });
    const { socket, client } = setup({ api: new FlowMaestroApi(() => "t0", "", fetchImpl as unknown as typeof fetch) });
    const resyncs: unknown[] = [];
    client.onResync((r) => resyncs.push(r));
    client.connect();
    socket.fire("connect");
    client.subscribe("execution:ex_1");
    client.subscribe("execution:ex_2", 0);
    await flush();
    await flush();
    expect(resyncs).toEqual([{ channel: "execution:ex_1", snapshot }]);
    expect(socket.subscribes()).toEqual([
      { channel: "execution:ex_2", after: 0 },
      { channel: "execution:ex_1", after: 42 },
    ]);
  });

  it("hands out a history asked for again, though its positions were seen before", async () => {
    const { socket, client } = setup();
    const seen: number[] = [];
    client.onEvent((e) => seen.push(e.position as number));
    client.connect();
    socket.fire("connect");
    socket.deliver("node:started", nodeStarted(5, "n1"));
    client.subscribe("execution:ex_1", 0);
    // The replay, before the ack: handed out again.
    socket.deliver("node:started", nodeStarted(5, "n1"));
    await flush();
    // Live once acked: a repeat is dropped as ever.
    socket.deliver("node:started", nodeStarted(5, "n1"));
    expect(seen).toEqual([5, 5]);
  });

  it("reference-counts subscriptions and unsubscribes when the last user leaves", async () => {
    const { socket, client } = setup();
    client.connect();
    socket.fire("connect");
    const a = client.subscribe("execution:ex_1", 0);
    const b = client.subscribe("execution:ex_1", 0);
    await flush();
    a();
    a();
    expect(socket.sent.filter((s) => s.event === "unsubscribe")).toHaveLength(0);
    b();
    expect(socket.sent.filter((s) => s.event === "unsubscribe")).toEqual([
      { event: "unsubscribe", data: { channel: "execution:ex_1" } },
    ]);
    expect(socket.subscribes()).toHaveLength(1);
  });

  it("reloads the execution snapshot over HTTP when history was pruned", async () => {
    const snapshot: ExecutionSnapshot = snapshotOf({ executionId: "ex_1", status: "waiting", position: 120 });
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify(snapshot), { status: 200 }));
    const api = new FlowMaestroApi(() => "t0", "", fetchImpl as unknown as typeof fetch);
    const { socket, client } = setup({ api });
    socket.answer["subscribe"] = (req: SubscribeRequest) => ({
      ok: true, channel: req.channel, channels: [req.channel], position: 130, replayed: 0, recovered: false,
    });
    const resyncs: unknown[] = [];
    client.onResync((r) => resyncs.push(r));
    client.connect();
    socket.fire("connect");
    client.subscribe("execution:ex_1", 3);
    await flush();
    await flush();
    expect(fetchImpl).toHaveBeenCalledWith("/api/executions/ex_1", expect.objectContaining({ method: "GET" }));
    expect(resyncs).toEqual([{ channel: "execution:ex_1", snapshot }]);
  });

  it("refreshes the live socket's token when the gateway says it is expiring", async () => {
    let n = 0;
    const { socket, client } = setup({ getToken: () => `t${++n}` });
    socket.answer["auth:refresh"] = () => ({ ok: true, exp: 2_000_000_000 });
    client.connect();
    socket.fire("connect");
    socket.deliver("auth:expiring", { exp: 1_999_999_999 });
    await flush();
    expect(socket.sent.filter((s) => s.event === "auth:refresh")).toEqual([
      { event: "auth:refresh", data: { token: "t1" } },
    ]);
    expect(client.state).toBe("connected");
    expect(client.error).toBeNull();
    // A refusal is reported; the gateway then cuts the socket at the old exp.
    socket.answer["auth:refresh"] = () => ({
      ok: false,
      error: { code: "forbidden", message: "another user", details: null },
    });
    socket.deliver("auth:expiring", { exp: 1_999_999_999 });
    await flush();
    expect(client.error?.code).toBe("forbidden");
  });

  it("reconnects with a fresh token after the gateway cut it for an expired token", async () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const { socket, client } = setup({ getToken: () => `t${++n}` });
      client.connect();
      socket.fire("connect");
      client.subscribe("execution:ex_1", 0);
      await vi.advanceTimersByTimeAsync(0);
      socket.deliver("node:started", nodeStarted(5, "n1"));
      socket.deliver("auth:expired", { reason: "token_expired", message: "expired" });
      socket.fire("disconnect", "io server disconnect");
      expect(client.state).toBe("reconnecting");
      const before = socket.connects;
      await vi.advanceTimersByTimeAsync(backoffDelay(1, undefined, () => 0.5));
      expect(socket.connects).toBe(before + 1);
      expect(await socket.authToken()).toBe("t1");
      socket.fire("connect");
      await vi.advanceTimersByTimeAsync(0);
      expect(client.state).toBe("connected");
      expect(client.transport).toBe("websocket");
      expect(socket.subscribes().at(-1)).toEqual({ channel: "execution:ex_1", after: 5 });
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks getToken for a fresh token on every connection attempt", async () => {
    let n = 0;
    const { socket, client } = setup({ getToken: () => `t${++n}` });
    client.connect();
    expect(await socket.authToken()).toBe("t1");
    expect(await socket.authToken()).toBe("t2");
    socket.fire("connect_error", Object.assign(new Error("expired"), { data: { code: "unauthorized", message: "expired" } }));
    expect(client.state).toBe("reconnecting");
    expect(client.error?.code).toBe("unauthorized");
    client.close();
  });

  it("goes offline with the error when a fixed token is refused", () => {
    const { socket, client } = setup();
    client.connect();
    socket.fire("connect_error", Object.assign(new Error("bad token"), { data: { code: "unauthorized", message: "bad token" } }));
    expect(client.state).toBe("offline");
    expect(client.error?.code).toBe("unauthorized");
  });

  it("reconnects after the server drops it (reason slow), not after close()", () => {
    vi.useFakeTimers();
    try {
      const { socket, client } = setup();
      client.connect();
      socket.fire("connect");
      socket.fire("disconnect", "io server disconnect");
      expect(client.state).toBe("reconnecting");
      client.close();
      expect(client.state).toBe("offline");
      const connects = socket.connects;
      vi.advanceTimersByTime(60_000);
      expect(socket.connects).toBe(connects);
    } finally {
      vi.useRealTimers();
    }
  });

  it("returns provideInput's ack typed, and an error result when none comes", async () => {
    const { socket, client } = setup();
    client.connect();
    socket.fire("connect");
    socket.answer["user_input:provide"] = () => ({
      ok: false,
      error: { code: "invalid_input", message: "bad", details: { errors: [{ path: "/x", message: "too small" }] } },
    });
    const result = await client.provideInput("ex_1", "in_1", 3);
    expect(socket.sent.at(-1)).toEqual({ event: "user_input:provide", data: { executionId: "ex_1", inputId: "in_1", value: 3 } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("invalid_input");
    delete socket.answer["user_input:provide"];
    const silent = await client.provideInput("ex_1", "in_1", 3);
    expect(silent.ok).toBe(false);
  });

  it("records an error event's code", () => {
    const { socket, client } = setup();
    socket.deliver("error", { error: { code: "bad_request", message: "malformed", details: null } });
    expect(client.error?.code).toBe("bad_request");
  });
});

describe("backoffDelay", () => {
  it("grows exponentially to a cap, with full jitter", () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, opts, () => 0)).toBe(0);
    expect(backoffDelay(1, opts, () => 0.999)).toBeCloseTo(99.9);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(200);
    expect(backoffDelay(10, opts, () => 0.5)).toBe(500);
    expect(backoffDelay(10, opts, () => 0.999)).toBeLessThan(1000);
  });
});
