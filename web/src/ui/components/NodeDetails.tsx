// One node opened from the graph: its status, attempts, inputs, outputs and error.
import type { NodeView } from "@flowmaestro/react";
import type { DisplayStatus, NodeHistory } from "../graph/flow";
import { formatDuration } from "./format";
import { StatusBadge } from "./StatusBadge";

interface Props {
  nodeId: string;
  type: string;
  node: NodeView | undefined;
  status: DisplayStatus;
  history: NodeHistory | undefined;
  onClose: () => void;
}

export function NodeDetails({ nodeId, type, node, status, history, onClose }: Props) {
  const attempts = history?.attempts ?? [];
  const last = attempts.at(-1);
  const error = node?.error ?? last?.error ?? null;
  return (
    <aside className="card node-details" data-testid="node-details" data-node={nodeId} aria-label={`Node ${nodeId}`}>
      <header className="card-head">
        <h3>
          {nodeId} <span className="muted">{type}</span>
        </h3>
        <StatusBadge status={status} />
        <button type="button" className="btn btn-ghost btn-small" onClick={onClose} aria-label="Close the node details">
          Close
        </button>
      </header>
      {status === "skipped" && <p className="muted">This node did not run: its branch was not taken.</p>}
      {error && (
        <div className="alert alert-error" data-testid="node-error">
          <strong>{error.type}</strong> {error.message}
        </div>
      )}
      <h4>Attempts</h4>
      {attempts.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ol className="attempts" data-testid="node-attempts">
          {attempts.map((a) => (
            <li key={a.attempt}>
              <StatusBadge status={a.outcome} label={a.outcome === "retrying" && a.endedAt !== null ? "failed, retried" : undefined} />{" "}
              attempt {a.attempt}
              {a.endedAt !== null && <span className="muted"> · {formatDuration(a.endedAt - a.startedAt)}</span>}
              {a.error && <span className="muted"> · {a.error.message}</span>}
              {a.outcome === "retrying" && a.nextRetryInMs !== null && (
                <span className="muted"> · retried after {formatDuration(a.nextRetryInMs)}</span>
              )}
            </li>
          ))}
        </ol>
      )}
      <h4>Inputs</h4>
      <pre className="code" data-testid="node-inputs">{last?.inputs ? JSON.stringify(last.inputs, null, 2) : "—"}</pre>
      <h4>Outputs</h4>
      <pre className="code" data-testid="node-outputs">
        {last && last.outcome === "completed" ? JSON.stringify(last.outputs, null, 2) : "—"}
      </pre>
    </aside>
  );
}
