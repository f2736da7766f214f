import { describe, expect, it, vi } from "vitest";
import { FlowMaestroApi } from "./api.js";
import { FlowMaestroError } from "./errors.js";

function api(status: number, body: unknown) {
  const fetchImpl = vi.fn(async () => new Response(JSON.stringify(body), { status }));
  return { fetchImpl, api: new FlowMaestroApi(async () => "tok", "http://gw", fetchImpl as unknown as typeof fetch) };
}

describe("FlowMaestroApi", () => {
  it("sends the bearer token and JSON", async () => {
    const { api: client, fetchImpl } = api(201, { executionId: "ex_1" });
    expect(await client.startExecution("approval", { amount: 3 })).toEqual({ executionId: "ex_1" });
    expect(fetchImpl).toHaveBeenCalledWith("http://gw/api/executions", {
      method: "POST",
      headers: { Authorization: "Bearer tok", "Content-Type": "application/json" },
      body: JSON.stringify({ flow: "approval", inputs: { amount: 3 } }),
    });
  });

  it("raises the gateway's error code, or one derived from the status", async () => {
    const coded = api(403, { error: { code: "forbidden", message: "not yours", details: null } }).api;
    await expect(coded.getExecution("ex_1")).rejects.toMatchObject({ code: "forbidden", message: "not yours" });
    const plain = api(404, { detail: "Not Found" }).api;
    const err = await plain.getExecution("ex_2").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowMaestroError);
    expect(err).toMatchObject({ code: "not_found", message: "Not Found" });
  });

  it("pages an execution's events after a position", async () => {
    const { api: client, fetchImpl } = api(200, { events: [], position: 7, recovered: true });
    expect(await client.getEvents("ex 1", 7, 50)).toMatchObject({ events: [], position: 7 });
    expect(fetchImpl).toHaveBeenCalledWith("http://gw/api/executions/ex%201/events?after=7&limit=50", expect.anything());
  });

  it("passes the list filters and cursor to the server and follows nextCursor", async () => {
    const row = { executionId: "ex_1", flowName: "f", status: "running" };
    const pages = [
      { executions: [row], nextCursor: "c1" },
      { executions: [{ ...row, executionId: "ex_2" }], nextCursor: null },
    ];
    const urls: string[] = [];
    const fetchImpl = async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(pages[urls.length - 1]), { status: 200 });
    };
    const client = new FlowMaestroApi(async () => "tok", "http://gw", fetchImpl as unknown as typeof fetch);
    const since = new Date(Date.UTC(2026, 0, 1));
    const listed = [];
    for await (const e of client.allExecutions({ status: "running", flow: "a b", since, limit: 1 })) listed.push(e.executionId);
    expect(listed).toEqual(["ex_1", "ex_2"]);
    expect(urls).toEqual([
      "http://gw/api/executions?status=running&flow=a+b&since=2026-01-01T00%3A00%3A00.000Z&limit=1",
      "http://gw/api/executions?status=running&flow=a+b&since=2026-01-01T00%3A00%3A00.000Z&limit=1&cursor=c1",
    ]);
  });

  it("cancels an execution", async () => {
    const { api: client, fetchImpl } = api(202, { executionId: "ex 1", status: "running", cancelRequested: true });
    expect(await client.cancelExecution("ex 1")).toMatchObject({ cancelRequested: true });
    expect(fetchImpl).toHaveBeenCalledWith("http://gw/api/executions/ex%201/cancel", expect.objectContaining({ method: "POST" }));
  });
});
