// A Gantt chart of node attempts: one row per node, a bar per attempt (failed attempts red),
// the backoff gap before a retry dashed, and the time spent waiting for a person amber.
import type { NodeHistory } from "../graph/flow";
import { formatDuration } from "./format";

interface Props {
  order: string[];
  histories: Record<string, NodeHistory>;
  /** Start and end of the chart (ms since the epoch); `end` is now while running. */
  start: number;
  end: number;
}

export function Timeline({ order, histories, start, end }: Props) {
  const span = Math.max(1, end - start);
  const pct = (t: number) => `${(Math.max(0, Math.min(span, t - start)) / span) * 100}%`;
  const width = (from: number, to: number) => `${Math.max(0.4, ((Math.min(end, to) - Math.max(start, from)) / span) * 100)}%`;
  const rows = order.filter((id) => histories[id] && (histories[id]!.attempts.length > 0 || histories[id]!.waits.length > 0));
  if (rows.length === 0) return <p className="muted">No node has started yet.</p>;
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis" aria-hidden="true">
        <span>0</span>
        <span>{formatDuration(span / 2)}</span>
        <span>{formatDuration(span)}</span>
      </div>
      <ul>
        {rows.map((id) => {
          const { attempts, waits } = histories[id]!;
          return (
            <li key={id} className="timeline-row" data-testid={`timeline-${id}`}>
              <span className="timeline-label">{id}</span>
              <div className="timeline-track">
                {attempts.map((a, i) => {
                  const next = attempts[i + 1];
                  const to = a.endedAt ?? end;
                  const gap = a.outcome === "retrying" && a.endedAt !== null ? { from: a.endedAt, to: next?.startedAt ?? end } : null;
                  const title = `${id} attempt ${a.attempt}: ${a.outcome}, ${formatDuration(to - a.startedAt)}${a.error ? ` (${a.error.message})` : ""}`;
                  return (
                    <span key={a.attempt}>
                      <span
                        className={`tl-bar tl-${a.outcome}`}
                        data-testid={`attempt-${id}-${a.attempt}`}
                        data-outcome={a.outcome}
                        style={{ left: pct(a.startedAt), width: width(a.startedAt, to) }}
                        title={title}
                        role="img"
                        aria-label={title}
                      />
                      {gap && (
                        <span
                          className="tl-bar tl-backoff"
                          data-testid={`backoff-${id}-${a.attempt}`}
                          style={{ left: pct(gap.from), width: width(gap.from, gap.to) }}
                          title={`backoff before attempt ${a.attempt + 1}: ${formatDuration(gap.to - gap.from)}`}
                        />
                      )}
                    </span>
                  );
                })}
                {waits.map((w) => (
                  <span
                    key={w.inputId}
                    className="tl-bar tl-wait"
                    data-testid={`wait-${id}`}
                    data-outcome={w.outcome}
                    style={{ left: pct(w.from), width: width(w.from, w.to ?? end) }}
                    title={`waiting for a person: ${w.outcome}, ${formatDuration((w.to ?? end) - w.from)}`}
                  />
                ))}
              </div>
            </li>
          );
        })}
      </ul>
      <p className="timeline-legend" aria-hidden="true">
        <span className="legend-item">
          <span className="key key-completed" /> attempt
        </span>
        <span className="legend-item">
          <span className="key key-failed" /> failed attempt
        </span>
        <span className="legend-item">
          <span className="key key-backoff" /> backoff
        </span>
        <span className="legend-item">
          <span className="key key-wait" /> waiting for a person
        </span>
      </p>
    </div>
  );
}
