import { describe, expect, it } from "vitest";
import { FakeSocket } from "../../../testing/fakeSocket";
import { FlowMaestroClient } from "./client.js";
import type { SubscribeRequest } from "./events.js";

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("presence", () => {
  it("starts from the subscribe ack and follows joins and leaves, by user", async () => {
    const socket = new FakeSocket();
    socket.answer["subscribe"] = (req: SubscribeRequest) => ({
      ok: true,
      channel: req.channel,
      channels: [req.channel],
      position: 0,
      replayed: 0,
      recovered: true,
      presence: req.channel?.startsWith("execution:") ? ["u2"] : null,
    });
    socket.answer["unsubscribe"] = () => ({ ok: true });
    const client = new FlowMaestroClient({ token: "t", socketFactory: socket.factory, fallback: false });
    const changes: unknown[] = [];
    client.presence.onChange((channel, users) => changes.push([channel, users]));
    client.connect();
    socket.fire("connect");
    const release = client.subscribe("execution:ex_1", 0);
    client.subscribe("user:u1");
    await flush();
    expect(client.presence.of("execution:ex_1")).toEqual(["u2"]);
    expect(client.presence.of("user:u1")).toEqual([]);

    socket.deliver("presence:join", { channel: "execution:ex_1", userId: "u1" });
    socket.deliver("presence:join", { channel: "execution:ex_1", userId: "u1" });
    socket.deliver("presence:leave", { channel: "execution:ex_1", userId: "u2" });
    socket.deliver("presence:join", { channel: 7 }); // malformed: ignored
    expect(client.presence.of("execution:ex_1")).toEqual(["u1"]);
    release();
    expect(client.presence.of("execution:ex_1")).toEqual([]);
    expect(changes).toEqual([
      ["execution:ex_1", ["u2"]],
      ["execution:ex_1", ["u1", "u2"]],
      ["execution:ex_1", ["u1"]],
      ["execution:ex_1", []],
    ]);
  });
});
