// @vitest-environment jsdom
import { act, cleanup, render, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { FlowMaestroApi } from "@flowmaestro/client";
import { FlowMaestroClient } from "@flowmaestro/client";
import type { ExecutionSnapshot, SubscribeRequest } from "@flowmaestro/client";
import { FakeSocket } from "../../../../testing/fakeSocket";
import { event, snapshotOf, token } from "../../../../testing/events";
import { FlowMaestroProvider } from "./context.js";
import { useAgentStreaming } from "./useAgentStreaming.js";
import { useExecutionEvents } from "./useExecutionEvents.js";
import { useUserInput } from "./useUserInput.js";
import { useWebSocket } from "./useWebSocket.js";

afterEach(cleanup);

/** The gateway's HTTP side: each execution's snapshot, as of `position`. */
function snapshots(position = 0, status: ExecutionSnapshot["status"] = "running") {
  const fetchImpl = async (url: string) => {
    const executionId = decodeURIComponent(url.split("/").pop() ?? "");
    return new Response(JSON.stringify(snapshotOf({ executionId, position, status })), { status: 200 });
  };
  return new FlowMaestroApi(() => "t", "", fetchImpl as unknown as typeof fetch);
}

function connected(api: FlowMaestroApi = snapshots()) {
  const socket = new FakeSocket();
  let factoryCalls = 0;
  socket.answer["subscribe"] = (req: SubscribeRequest) => ({
    ok: true, channel: req.channel, position: 0, replayed: 0, recovered: true,
  });
  socket.answer["unsubscribe"] = () => ({ ok: true });
  const client = new FlowMaestroClient({
    token: "t",
    api,
    socketFactory: (url, opts) => {
      factoryCalls += 1;
      return socket.factory(url, opts);
    },
  });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <FlowMaestroProvider client={client}>{children}</FlowMaestroProvider>
  );
  return { socket, client, wrapper, factoryCalls: () => factoryCalls };
}

function Execution({ id }: { id: string }) {
  const { status, nodes } = useExecutionEvents(id);
  return <p>{`${status}:${nodes.length}`}</p>;
}

describe("React hooks", () => {
  it("share one connection and leave a channel when its last user unmounts", async () => {
    const { socket, wrapper, factoryCalls } = connected();
    const both = render(<><Execution id="ex_1" /><Execution id="ex_1" /></>, { wrapper });
    act(() => socket.fire("connect"));
    await waitFor(() => expect(socket.subscribes()).toEqual([{ channel: "execution:ex_1", after: 0 }]));
    expect(factoryCalls()).toBe(1);
    both.rerender(<Execution id="ex_1" />);
    expect(socket.sent.filter((s) => s.event === "unsubscribe")).toHaveLength(0);
    both.rerender(<></>);
    await waitFor(() =>
      expect(socket.sent.filter((s) => s.event === "unsubscribe")).toEqual([
        { event: "unsubscribe", data: { channel: "execution:ex_1" } },
      ]),
    );
  });

  it("expose connection state, execution state and streamed agent text", async () => {
    const { socket, wrapper } = connected();
    const { result } = renderHook(
      () => ({ ws: useWebSocket(), ex: useExecutionEvents("ex_1"), agent: useAgentStreaming("a1", "ex_1") }),
      { wrapper },
    );
    expect(result.current.ws.state).toBe("connecting");
    act(() => socket.fire("connect"));
    expect(result.current.ws.connected).toBe(true);
    act(() => {
      socket.deliver("agent:token", token(5, 5, " world", 1));
      socket.deliver("agent:token", token(4, 0, "Hello", 0));
      socket.deliver("node:started", event("node:started", 3, { nodeId: "n1", nodeType: "agent", attempt: 1, inputs: {} }));
    });
    expect(result.current.agent.text).toBe("Hello world");
    expect(result.current.ex.nodes.map((n) => n.status)).toEqual(["running"]);
  });

  it("useUserInput surfaces invalid_input details, and closes the prompt once accepted", async () => {
    const { socket, wrapper } = connected();
    const { result } = renderHook(() => useUserInput("ex_1"), { wrapper });
    act(() => {
      socket.fire("connect");
      socket.deliver("user_input:required", event("user_input:required", 2, {
        inputId: "in_1", nodeId: "approve", prompt: "Amount?", inputType: "number",
        schema: { type: "number", minimum: 10 }, choices: null, timeoutSeconds: null, expiresAt: null,
      }));
    });
    expect(result.current.prompts.map((p) => p.inputId)).toEqual(["in_1"]);
    socket.answer["user_input:provide"] = () => ({
      ok: false,
      error: { code: "invalid_input", message: "does not match", details: { errors: [{ path: "", message: "3 is less than the minimum of 10" }] } },
    });
    await act(async () => {
      await result.current.submit("in_1", 3);
    });
    expect(result.current.errors["in_1"]?.error.code).toBe("invalid_input");
    expect(result.current.errors["in_1"]?.fields).toEqual([{ path: "", message: "3 is less than the minimum of 10" }]);
    socket.answer["user_input:provide"] = () => ({ ok: true });
    await act(async () => {
      await result.current.submit("in_1", 12);
    });
    expect(result.current.errors).toEqual({});
    expect(result.current.prompts).toEqual([]);
  });

  it("show the HTTP snapshot when the server answers recovered: false", async () => {
    const snapshot = {
      executionId: "ex_1", flowName: "approval", status: "waiting", position: 90,
      nodes: [{ nodeId: "check", nodeType: "condition", status: "completed", durationMs: 4 }],
      pendingInputs: [],
    };
    const fetchImpl = async () => new Response(JSON.stringify(snapshot), { status: 200 });
    const { socket, wrapper } = connected(new FlowMaestroApi(() => "t", "", fetchImpl as typeof fetch));
    socket.answer["subscribe"] = (req: SubscribeRequest) => ({
      ok: true, channel: req.channel, position: 95, replayed: 0, recovered: false,
    });
    const { result } = renderHook(() => useExecutionEvents("ex_1"), { wrapper });
    act(() => socket.fire("connect"));
    await waitFor(() => expect(result.current.status).toBe("waiting"));
    expect(result.current.nodes).toMatchObject([{ nodeId: "check", status: "completed", durationMs: 4 }]);
    act(() => socket.deliver("node:started", event("node:started", 96, { nodeId: "decide", nodeType: "transform", attempt: 1, inputs: {} })));
    expect(result.current.nodes.map((n) => n.nodeId)).toEqual(["check", "decide"]);
  });

  it("start an execution from its snapshot, or replay its history when asked", async () => {
    const { socket, wrapper } = connected(snapshots(42, "waiting"));
    const { result } = renderHook(
      () => ({ fromSnapshot: useExecutionEvents("ex_1"), history: useExecutionEvents("ex_2", { history: true }) }),
      { wrapper },
    );
    act(() => socket.fire("connect"));
    await waitFor(() => expect(result.current.fromSnapshot.status).toBe("waiting"));
    await waitFor(() =>
      expect(socket.subscribes()).toEqual([
        { channel: "execution:ex_2", after: 0 },
        { channel: "execution:ex_1", after: 42 },
      ]),
    );
    expect(result.current.history.status).toBe("pending");
  });
});
