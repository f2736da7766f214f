import { useMemo, useState } from "react";
import { useExecutionEvents, useFlowState, useUserInput } from "@flowmaestro/react";
import { type FlowGraph as Graph, executionChannel, isAppEventType } from "@flowmaestro/client";
import { displayStatuses, nodeCounts, nodeHistories, observedGraph, skippedNodes } from "../graph/flow";
import { AgentPanel } from "../components/AgentPanel";
import { readToken, tokenGroups, tokenSubject } from "../auth";
import { AlsoWatching } from "../components/AlsoWatching";
import { CancelButton } from "../components/CancelButton";
import { mayAnswer, waitsFor } from "../components/assignees";
import { FlowGraph } from "../components/FlowGraph";
import { formatDateTime, formatDuration, plural } from "../components/format";
import { NodeDetails } from "../components/NodeDetails";
import { ProgressBar } from "../components/ProgressBar";
import { PromptForm } from "../components/PromptForm";
import { StatusBadge } from "../components/StatusBadge";
import { Timeline } from "../components/Timeline";
import { useNow } from "../components/useNow";
import { useSnapshot } from "../components/useSnapshot";

const FINAL = new Set(["completed", "failed", "cancelled"]);

export function ExecutionPage({ executionId }: { executionId: string }) {
  // The page shows a timeline of every event: it asks for the whole history.
  const { view, events, agentIds } = useExecutionEvents(executionId, { history: true });
  const { prompts, submit, errors, submitting } = useUserInput(executionId);
  const channel = useFlowState((s) => s.channels[executionChannel(executionId)]);
  const { snapshot, error: loadError } = useSnapshot(executionId);
  const [selected, setSelected] = useState<string | null>(null);
  const viewer = useMemo(() => {
    const token = readToken();
    return { user: token === null ? null : tokenSubject(token), groups: token === null ? [] : tokenGroups(token) };
  }, []);
  const owner = snapshot?.ownerId ?? null;
  const mine = prompts.filter((p) => mayAnswer(p, viewer, owner));
  const others = prompts.filter((p) => !mayAnswer(p, viewer, owner));
  // The audit: the snapshot's answers, and those that arrived live since.
  const answers = useMemo(() => {
    const byInput = new Map((snapshot?.answers ?? []).map((a) => [a.inputId, a]));
    for (const e of events) if (e.type === "user_input:received" && e.data.answeredAt) byInput.set(e.data.inputId, e.data);
    return [...byInput.values()];
  }, [snapshot, events]);

  // Until the snapshot is there the graph is unknown (drawing the nodes seen so far would
  // flicker); an execution with no graph in advance (a workflow of your own, or one recorded
  // before graphs were) grows one from its nodes as they start.
  const loaded = snapshot !== null || loadError !== null;
  const histories = useMemo(() => nodeHistories(events), [events]);
  const graph: Graph = useMemo(
    () => snapshot?.graph ?? (loaded ? observedGraph(view, histories) : { nodes: [] }),
    [snapshot, loaded, view, histories],
  );
  const appEvents = useMemo(() => events.filter((e) => isAppEventType(e.type)), [events]);
  const skipped = useMemo(() => skippedNodes(graph, view, histories), [graph, view, histories]);
  const statuses = useMemo(() => displayStatuses(graph, view, skipped), [graph, view, skipped]);
  const counts = nodeCounts(snapshot?.graph ?? null, view, skipped);
  const running = !FINAL.has(view.status);
  const now = useNow(running && events.length > 0);
  const first = events[0] ? Date.parse(events[0].timestamp) : null;
  const last = events.at(-1) ? Date.parse(events.at(-1)!.timestamp) : null;

  const missing = loadError?.code === "not_found" || channel?.error?.code === "not_found";
  if (missing || loadError?.code === "forbidden" || channel?.error?.code === "forbidden") {
    return (
      <section className="card empty-state" data-testid="execution-missing">
        <h1>Execution not found</h1>
        <p>
          There is no execution <code>{executionId}</code> that you can see. It may belong to another user, or the id
          may be mistyped.
        </p>
        <a className="btn btn-primary" href="#/executions">
          All executions
        </a>
      </section>
    );
  }

  const selectedType = graph.nodes.find((n) => n.id === selected)?.type ?? view.nodes[selected ?? ""]?.nodeType ?? "";
  return (
    <>
      <section className="card execution-head" data-testid="execution" data-status={view.status}>
        <div className="head-row">
          <div>
            <p className="eyebrow">Execution</p>
            <h1>{view.workflowId ?? snapshot?.flowName ?? "…"}</h1>
            <p className="muted mono">{executionId}</p>
          </div>
          <div className="head-actions">
            {running && (owner === null || owner === viewer.user) && <CancelButton executionId={executionId} />}
            <StatusBadge
              status={view.status}
              label={
                view.status !== "waiting"
                  ? undefined
                  : mine.length > 0
                    ? "waiting for you"
                    : others.length > 0
                      ? "waiting for others"
                      : undefined
              }
            />
          </div>
        </div>
        <ProgressBar value={view.progress} label="Execution progress" />
        <AlsoWatching channel={executionChannel(executionId)} />
        <p className="muted" data-testid="node-counts">
          {counts.done} of {plural(counts.total, "node")} done
          {counts.skipped > 0 ? `, ${counts.skipped} skipped` : ""}
          {view.durationMs !== null ? ` · took ${formatDuration(view.durationMs)}` : ""}
          {first !== null ? ` · started ${formatDateTime(first)}` : ""}
        </p>
        {channel?.error && (
          <div className="alert alert-error" data-testid="channel-error" role="alert">
            Live updates stopped: {channel.error.message}
          </div>
        )}
        {loadError && !missing && (
          <div className="alert alert-error" role="alert">
            Could not load the flow: {loadError.message}
          </div>
        )}
        {view.error && (
          <div className="alert alert-error" data-testid="execution-error" role="alert">
            <strong>{view.failedNodeId ? `Node ${view.failedNodeId} failed` : "The execution failed"}</strong>{" "}
            {view.error.message} <span className="muted">({view.error.type})</span>
          </div>
        )}
      </section>
      {mine.length > 0 && (
        <section className="card card-attention" data-testid="prompts">
          <h2>Waiting for you</h2>
          <AlsoWatching channel={executionChannel(executionId)} />
          {mine.map((p) => (
            <div key={p.inputId}>
              {p.assignees && (
                <p className="muted small" data-testid="waiting-for">
                  waiting for {waitsFor(p, owner)}
                </p>
              )}
              <PromptForm
                prompt={p}
                error={errors[p.inputId]}
                busy={submitting === p.inputId}
                onSubmit={(value) => void submit(p.inputId, value)}
              />
            </div>
          ))}
        </section>
      )}
      {others.length > 0 && (
        <section className="card" data-testid="prompts-elsewhere">
          <h2>Waiting for others</h2>
          {others.map((p) => (
            <div key={p.inputId} className="prompt" data-testid={`waiting-${p.inputId}`}>
              <p className="prompt-text">{p.prompt}</p>
              <p className="muted" data-testid="waiting-for">
                waiting for {waitsFor(p, owner)}
                {p.excludeRequester ? " (not the requester)" : ""}
              </p>
            </div>
          ))}
        </section>
      )}
      {answers.length > 0 && (
        <section className="card" data-testid="answers">
          <h2>Answers</h2>
          <ol className="events">
            {answers.map((a) => (
              <li key={a.inputId} data-testid="answer">
                <strong>{a.answeredBy ?? "a Temporal client"}</strong> answered {a.nodeId}{" "}
                <span className="mono small">{JSON.stringify(a.value ?? null)}</span>{" "}
                <span className="muted small">
                  {a.answeredAt ? formatDateTime(a.answeredAt) : ""} via {a.client ?? "?"}
                </span>
              </li>
            ))}
          </ol>
        </section>
      )}
      <div className={`graph-layout${selected ? " with-details" : ""}`}>
        <section className="card">
          <h2>Flow</h2>
          {loaded ? (
            <FlowGraph graph={graph} nodes={view.nodes} statuses={statuses} selected={selected} onSelect={setSelected} />
          ) : (
            <p className="muted">Loading the flow…</p>
          )}
          <p className="muted small">Select a node to see its inputs, outputs and attempts.</p>
        </section>
        {selected && (
          <NodeDetails
            nodeId={selected}
            type={selectedType}
            node={view.nodes[selected]}
            status={statuses[selected] ?? "pending"}
            history={histories[selected]}
            onClose={() => setSelected(null)}
          />
        )}
      </div>
      <section className="card">
        <h2>Timeline</h2>
        {first !== null && (
          <Timeline
            order={graph.nodes.map((n) => n.id)}
            histories={histories}
            start={first}
            end={running ? Math.max(now, last ?? first) : (last ?? first)}
          />
        )}
        {first === null && <p className="muted">Nothing has happened yet.</p>}
      </section>
      {agentIds.map((agentId) => (
        <AgentPanel key={agentId} agentId={agentId} executionId={executionId} />
      ))}
      {appEvents.length > 0 && (
        <section className="card" data-testid="app-events">
          <h2>Events from your code</h2>
          <ol className="events">
            {appEvents.map((e) => (
              <li key={e.id} data-testid="app-event" data-type={e.type}>
                <strong>{e.type.slice("app:".length)}</strong>{" "}
                <span className="mono small">{JSON.stringify(e.data)}</span>
              </li>
            ))}
          </ol>
        </section>
      )}
      {view.outputs && (
        <section className="card">
          <h2>Outputs</h2>
          <pre className="code" data-testid="outputs">{JSON.stringify(view.outputs, null, 2)}</pre>
        </section>
      )}
      <section className="card">
        <details>
          <summary>Events ({events.length})</summary>
          <ol className="events">
            {events.map((e) => (
              <li key={e.id}>
                <code>{e.position}</code> {e.type}
              </li>
            ))}
          </ol>
        </details>
      </section>
    </>
  );
}
