// Server rendering: both packages import and render in Node with no window or document (the
// hooks' effects, which connect, never run on the server).
import { FlowMaestroClient } from "@flowmaestro/client";
import { FlowMaestroProvider, useExecutionEvents, useWebSocket } from "@flowmaestro/react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";

function Page() {
  const { state } = useWebSocket();
  const { status } = useExecutionEvents("ex_1");
  return <p>{`${state}/${status}`}</p>;
}

describe("server rendering", () => {
  it("imports with no window and renders the initial state without connecting", () => {
    expect(typeof window).toBe("undefined");
    expect(typeof document).toBe("undefined");
    const client = new FlowMaestroClient({ token: "t", url: "http://gateway.invalid" });
    const html = renderToString(
      <FlowMaestroProvider client={client}>
        <Page />
      </FlowMaestroProvider>,
    );
    expect(html).toBe("<p>offline/pending</p>");
    expect(client.state).toBe("offline");
  });
});
