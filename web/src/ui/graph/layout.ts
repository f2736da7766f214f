// The flow laid out with dagre: a layered (Sugiyama) layout of the `after` edges, left to right.
// dagre is small (about 50 KB minified), synchronous and deterministic: the same graph gives
// the same picture on every reload and in every tab, which elkjs (1.4 MB, asynchronous, a
// worker) and @xyflow/react (a whole canvas framework that still needs a layout) do not buy us.
import dagre from "@dagrejs/dagre";
import type { FlowGraph } from "../graph/flow";

export interface Point {
  x: number;
  y: number;
}

export interface LaidOutNode {
  id: string;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  from: string;
  to: string;
  points: Point[];
}

export interface Layout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
}

export const NODE_WIDTH = 184;
export const NODE_HEIGHT = 64;

export function layoutFlow(graph: FlowGraph, direction: "LR" | "TB" = "LR"): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: direction, nodesep: 28, ranksep: 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((n) => n.id));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const node of graph.nodes) for (const from of node.after) if (ids.has(from)) g.setEdge(from, node.id);
  dagre.layout(g);
  const label = g.graph() as { width?: number; height?: number };
  return {
    width: Math.ceil(label.width ?? 0),
    height: Math.ceil(label.height ?? 0),
    nodes: graph.nodes.map((n) => {
      const { x, y, width, height } = g.node(n.id) as { x: number; y: number; width: number; height: number };
      return { id: n.id, x: x - width / 2, y: y - height / 2, width, height };
    }),
    edges: g.edges().map((e) => ({ from: e.v, to: e.w, points: (g.edge(e) as { points: Point[] }).points })),
  };
}
