// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, expect, it } from "vitest";
import { FlowMaestroClient } from "@flowmaestro/client";
import type { SubscribeRequest } from "@flowmaestro/client";
import { FakeSocket } from "../../../../testing/fakeSocket";
import { FlowMaestroProvider, useChannel } from "./context.js";
import { usePresence } from "./usePresence.js";

afterEach(cleanup);

it("usePresence re-renders with who else watches the channel", async () => {
  const socket = new FakeSocket();
  socket.answer["subscribe"] = (req: SubscribeRequest) => ({
    ok: true, channel: req.channel, position: 0, replayed: 0, recovered: true, presence: ["u2"],
  });
  const client = new FlowMaestroClient({ token: "t", socketFactory: socket.factory, fallback: false });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <FlowMaestroProvider client={client}>{children}</FlowMaestroProvider>
  );
  const { result } = renderHook(
    () => {
      useChannel("kb:kb_1");
      return usePresence("kb:kb_1");
    },
    { wrapper },
  );
  expect(result.current).toEqual([]);
  act(() => socket.fire("connect"));
  await waitFor(() => expect(result.current).toEqual(["u2"]));
  act(() => socket.deliver("presence:join", { channel: "kb:kb_1", userId: "u3" }));
  expect(result.current).toEqual(["u2", "u3"]);
  act(() => socket.deliver("presence:leave", { channel: "kb:other", userId: "u2" }));
  expect(result.current).toEqual(["u2", "u3"]);
});
