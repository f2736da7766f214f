// The flow as a graph: nodes laid out by dagre from their `after` edges, each with its status
// colour, a progress ring, a retry badge and its duration; skipped branches greyed out.
import { useMemo } from "react";
import type { NodeView } from "@flowmaestro/react";
import type { DisplayStatus, FlowGraph as Graph } from "../graph/flow";
import { type LaidOutNode, layoutFlow, type Point } from "../graph/layout";
import { formatDuration } from "./format";
import { useNarrow } from "./useNow";

interface Props {
  graph: Graph;
  nodes: Record<string, NodeView>;
  statuses: Record<string, DisplayStatus>;
  selected: string | null;
  onSelect: (nodeId: string) => void;
}

const STATUS_LABEL: Record<DisplayStatus, string> = {
  pending: "pending",
  running: "running",
  retrying: "retrying",
  waiting: "waiting for input",
  completed: "completed",
  failed: "failed",
  skipped: "skipped",
};

function path(points: Point[]): string {
  const [first, ...rest] = points;
  if (!first) return "";
  return `M${first.x},${first.y}` + rest.map((p) => ` L${p.x},${p.y}`).join("");
}

export function FlowGraph({ graph, nodes, statuses, selected, onSelect }: Props) {
  const narrow = useNarrow();
  const layout = useMemo(() => layoutFlow(graph, narrow ? "TB" : "LR"), [graph, narrow]);
  const types = useMemo(() => Object.fromEntries(graph.nodes.map((n) => [n.id, n.type])), [graph]);
  return (
    <div className="graph-scroll">
      <svg
        className="flow-graph"
        data-testid="graph"
        style={{ width: "100%", maxWidth: layout.width, height: "auto" }}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label="The flow's nodes and edges"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="arrowhead" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path
            key={`${e.from}->${e.to}`}
            data-edge={`${e.from}->${e.to}`}
            className={`edge ${statuses[e.to] === "skipped" ? "edge-skipped" : ""} ${statuses[e.from] === "completed" ? "edge-done" : ""}`}
            d={path(e.points)}
            markerEnd="url(#arrow)"
          />
        ))}
        {layout.nodes.map((box) => (
          <GraphNode
            key={box.id}
            box={box}
            type={types[box.id] ?? ""}
            node={nodes[box.id]}
            status={statuses[box.id] ?? "pending"}
            selected={selected === box.id}
            onSelect={onSelect}
          />
        ))}
      </svg>
    </div>
  );
}

function GraphNode({
  box,
  type,
  node,
  status,
  selected,
  onSelect,
}: {
  box: LaidOutNode;
  type: string;
  node: NodeView | undefined;
  status: DisplayStatus;
  selected: boolean;
  onSelect: (nodeId: string) => void;
}) {
  const progress = status === "completed" ? 100 : Math.max(0, Math.min(100, node?.progress ?? 0));
  const r = 13;
  const circumference = 2 * Math.PI * r;
  const retries = node?.retries ?? 0;
  const duration = formatDuration(node?.durationMs ?? null);
  const label = `${box.id}, ${type}, ${STATUS_LABEL[status]}${retries ? `, ${retries} ${retries === 1 ? "retry" : "retries"}` : ""}${duration ? `, ${duration}` : ""}`;
  return (
    <g
      className={`graph-node status-${status}${selected ? " selected" : ""}`}
      data-node-id={box.id}
      data-testid={`node-${box.id}`}
      data-status={status}
      transform={`translate(${box.x},${box.y})`}
      role="button"
      tabIndex={0}
      aria-pressed={selected}
      onClick={() => onSelect(box.id)}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          onSelect(box.id);
        }
      }}
    >
      {/* The accessible name (SVG takes it from the title), also the hover tooltip. */}
      <title>{label}</title>
      <rect className="node-box" width={box.width} height={box.height} rx={10} />
      <rect className="node-stripe" width={5} height={box.height} rx={2} />
      <g transform={`translate(28,${box.height / 2})`} aria-hidden="true">
        <circle className="ring-track" r={r} />
        <circle
          className="ring-fill"
          r={r}
          strokeDasharray={`${(progress / 100) * circumference} ${circumference}`}
          transform="rotate(-90)"
          data-progress={Math.round(progress)}
        />
        <text className="ring-icon" textAnchor="middle" dy="0.35em">
          {ICON[status]}
        </text>
      </g>
      <text className="node-title" x={50} y={26}>
        {box.id.length > 17 ? `${box.id.slice(0, 16)}…` : box.id}
      </text>
      <text className="node-sub" x={50} y={45}>
        {type}
        {duration ? ` · ${duration}` : status === "skipped" ? " · skipped" : ""}
      </text>
      {retries > 0 && (
        <g className="retry-badge" data-testid={`retry-badge-${box.id}`} data-retries={retries} transform={`translate(${box.width - 58},-9)`}>
          <rect width={66} height={18} rx={9} />
          <text x={33} y={9} textAnchor="middle" dy="0.35em">
            ↻ {retries} {retries === 1 ? "retry" : "retries"}
          </text>
        </g>
      )}
    </g>
  );
}

const ICON: Record<DisplayStatus, string> = {
  pending: "",
  running: "",
  retrying: "↻",
  waiting: "?",
  completed: "✓",
  failed: "✕",
  skipped: "–",
};
