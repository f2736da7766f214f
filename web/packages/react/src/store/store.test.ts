import { describe, expect, it } from "vitest";
import { event, nodeCompleted, nodeStarted, snapshotOf, token } from "../../../../testing/events";
import { agentKey, createFlowStore } from "./store.js";

const required = (position: number, inputId: string) =>
  event("user_input:required", position, {
    inputId,
    nodeId: "approve",
    prompt: "Approve?",
    inputType: "boolean",
    schema: { type: "boolean" },
    choices: null,
    timeoutSeconds: null,
    expiresAt: null,
  });

describe("flow store", () => {
  it("drops a duplicate position", () => {
    const store = createFlowStore();
    const failed = event("node:failed", 2, {
      nodeId: "n1", nodeType: "http", error: { message: "503", type: "HttpError" },
      attempt: 1, maxAttempts: 3, willRetry: true, nextRetryInMs: 100,
    });
    store.getState().ingest(nodeStarted(1, "n1"));
    store.getState().ingest(failed);
    store.getState().ingest({ ...failed });
    const entry = store.getState().executions["ex_1"];
    expect(entry?.events().map((e) => e.position)).toEqual([1, 2]);
    expect(entry?.view.nodes["n1"]).toMatchObject({ status: "retrying", retries: 1 });
  });

  it("folds in position order whatever the arrival order", () => {
    const store = createFlowStore();
    store.getState().ingest(nodeCompleted(3, "n1", 12));
    store.getState().ingest(nodeStarted(2, "n1"));
    store.getState().ingest(nodeStarted(1, "n0"));
    const { events, view } = store.getState().executions["ex_1"]!;
    expect(events().map((e) => e.position)).toEqual([1, 2, 3]);
    expect(view.nodeOrder).toEqual(["n0", "n1"]);
    expect(view.nodes["n1"]).toMatchObject({ status: "completed", durationMs: 12 });
    expect(view.nodes["n0"]?.status).toBe("running");
  });

  it("opens a prompt on required and closes it on received, in every store", () => {
    const tabs = [createFlowStore(), createFlowStore()];
    for (const tab of tabs) tab.getState().ingest(required(4, "in_1"));
    expect(Object.keys(tabs[0]!.getState().executions["ex_1"]!.view.pendingInputs)).toEqual(["in_1"]);
    expect(tabs[1]!.getState().executions["ex_1"]!.view.nodes["approve"]?.status).toBe("waiting");
    for (const tab of tabs) tab.getState().ingest(event("user_input:received", 5, { inputId: "in_1", nodeId: "approve" }));
    for (const tab of tabs) expect(tab.getState().executions["ex_1"]!.view.pendingInputs).toEqual({});
  });

  it("rebuilds from the HTTP snapshot after recovered: false and folds later events onto it", () => {
    const store = createFlowStore();
    store.getState().ingest(nodeStarted(150, "late"));
    store.getState().resync({
      channel: "execution:ex_1",
      snapshot: snapshotOf({
        executionId: "ex_1",
        status: "waiting",
        position: 120,
        nodes: [{ nodeId: "fetch", status: "completed", durationMs: 30, nodeType: "http" }],
        pendingInputs: [required(110, "in_9").data],
      }),
    });
    const state = () => store.getState().executions["ex_1"]!;
    expect(state().view.status).toBe("waiting");
    expect(state().view.nodes["fetch"]).toMatchObject({ status: "completed", durationMs: 30 });
    expect(state().view.nodes["late"]?.status).toBe("running");
    expect(Object.keys(state().view.pendingInputs)).toEqual(["in_9"]);
    // Already inside the snapshot: ignored. After it: applied.
    store.getState().ingest(nodeCompleted(100, "fetch", 999));
    expect(state().view.nodes["fetch"]?.durationMs).toBe(30);
    store.getState().ingest(event("user_input:received", 151, { inputId: "in_9", nodeId: "approve" }));
    expect(state().view.pendingInputs).toEqual({});
  });

  it("routes agent events to the agent's stream as well as the execution", () => {
    const store = createFlowStore();
    store.getState().ingest(token(10, 0, "Hel", 0));
    store.getState().ingest(token(11, 3, "lo", 1));
    expect(store.getState().agents[agentKey("a1", "ex_1")]?.view.text).toBe("Hello");
    expect(store.getState().executions["ex_1"]?.events()).toHaveLength(2);
  });

  it("tracks knowledge-base steps per document", () => {
    const store = createFlowStore();
    const kb = { executionId: null, knowledgeBaseId: "kb1" };
    store.getState().ingest(event("kb:processing", 3, { documentId: "d1", step: "chunking", progress: 50 }, kb));
    store.getState().ingest(event("kb:upload_started", 1, { knowledgeBaseId: "kb1", documentId: "d1", fileName: "a.txt", fileSize: 10 }, kb));
    store.getState().ingest(event("kb:processing", 2, { documentId: "d1", step: "extraction", progress: 100 }, kb));
    const doc = store.getState().knowledgeBases["kb1"]?.view.documents["d1"];
    expect(doc).toMatchObject({ fileName: "a.txt", status: "processing", step: "chunking", steps: { extraction: 100, chunking: 50 } });
  });
});
