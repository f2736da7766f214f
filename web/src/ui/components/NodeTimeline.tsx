import type { NodeView } from "../../store/execution";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";

export function NodeTimeline({ nodes }: { nodes: NodeView[] }) {
  return (
    <table className="nodes" data-testid="nodes">
      <thead>
        <tr>
          <th>Node</th>
          <th>Type</th>
          <th>Status</th>
          <th>Attempt</th>
          <th>Retries</th>
          <th>Duration</th>
          <th>Progress</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.nodeId} data-testid={`node-${n.nodeId}`} data-status={n.status}>
            <td>{n.nodeId}</td>
            <td>{n.nodeType}</td>
            <td>
              <StatusBadge status={n.status} />
              {n.error && (
                <div className="error small">
                  {n.error.type}: {n.error.message}
                  {n.nextRetryInMs !== null && n.status === "retrying" ? ` (retry in ${n.nextRetryInMs} ms)` : ""}
                </div>
              )}
            </td>
            <td>{n.attempt || ""}</td>
            <td data-testid={`retries-${n.nodeId}`}>{n.retries}</td>
            <td>{n.durationMs === null ? "" : `${n.durationMs} ms`}</td>
            <td>
              <ProgressBar value={n.progress} label={n.step ?? undefined} />
              {n.step && <span className="small">{n.step}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
