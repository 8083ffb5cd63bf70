// The workflow's graph, laid out by dagre on the collapsed graph (a fan-out group is one vertex,
// however many items it has), drawn as SVG. The layout is computed again only when the graph's
// shape changes, not when phases do.
import dagre from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import type { GraphView, Vertex } from '../model';
import { FINISHED, label } from '../model';

const NODE = { w: 190, h: 40 };
const GROUP = { w: 220, h: 64 };
const JUNCTION = { w: 14, h: 14 };

interface Box {
  x: number; // top-left
  y: number;
  w: number;
  h: number;
}

interface Layout {
  boxes: Map<string, Box>;
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

function sizeOf(v: Vertex) {
  if (v.group) return GROUP;
  const t = v.node?.type;
  return t === 'StepGroup' || t === 'TaskGroup' ? JUNCTION : NODE;
}

function layOut(view: GraphView): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of view.vertices) {
    const s = sizeOf(v);
    g.setNode(v.id, { width: s.w, height: s.h });
  }
  for (const [a, b] of view.edges) g.setEdge(a, b);
  dagre.layout(g);
  const boxes = new Map<string, Box>();
  for (const v of view.vertices) {
    const n = g.node(v.id) as { x: number; y: number; width: number; height: number };
    boxes.set(v.id, { x: n.x - n.width / 2, y: n.y - n.height / 2, w: n.width, h: n.height });
  }
  const edges = view.edges.map(([from, to]) => ({
    from,
    to,
    points: (g.edge(from, to) as { points: { x: number; y: number }[] }).points,
  }));
  const graph = g.graph() as { width?: number; height?: number };
  return { boxes, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

function clip(text: string, max: number) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const BAR_PHASES = ['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted', 'Running'];

function GroupVertex({ v, box }: { v: Vertex; box: Box }) {
  const g = v.group!;
  const total = g.members.length;
  let x = 10;
  const counts = Object.entries(g.counts)
    .map(([p, c]) => `${c} ${p.toLowerCase()}`)
    .join(' · ');
  return (
    <>
      <rect class="stack" x={4} y={-4} width={box.w} height={box.h} rx={6} />
      <rect class="box" width={box.w} height={box.h} rx={6} />
      <text x={10} y={17} class="title">
        {`⊞ ${clip(g.label, 18)} ×${total}`}
      </text>
      <text x={box.w - 10} y={17} class="count" text-anchor="end">
        {`${g.done}/${total}`}
      </text>
      <text x={10} y={35} class="sub">
        {clip(counts, 34)}
      </text>
      <rect x={10} y={45} width={box.w - 20} height={8} rx={2} class="track" />
      {BAR_PHASES.map((p) => {
        const c = g.counts[p];
        if (!c) return null;
        const w = ((box.w - 20) * c) / total;
        const r = <rect x={x} y={45} width={w} height={8} class={`fill-${p}`} />;
        x += w;
        return r;
      })}
    </>
  );
}

function NodeVertex({ v, box }: { v: Vertex; box: Box }) {
  const n = v.node!;
  if (box.w === JUNCTION.w) return <circle cx={box.w / 2} cy={box.h / 2} r={5} class={`dot fill-${n.phase}`} />;
  return (
    <>
      <rect class="box" width={box.w} height={box.h} rx={6} />
      <circle cx={14} cy={box.h / 2} r={6} class={`fill-${n.phase}`} />
      <text x={26} y={17} class="title">
        {clip(label(n), 22)}
      </text>
      <text x={26} y={32} class="sub">
        {n.phase}
        {n.type !== 'Pod' ? ` · ${n.type}` : ''}
        {!FINISHED.has(n.phase) && n.hostNodeName ? ` · ${n.hostNodeName}` : ''}
      </text>
    </>
  );
}

interface Props {
  view: GraphView;
  selected: string;
  onSelect: (id: string) => void;
}

export function Graph({ view, selected, onSelect }: Props) {
  const layout = useMemo(() => layOut(view), [view.shape]);
  const byId = new Map(view.vertices.map((v) => [v.id, v]));
  return (
    <div class="graph" data-vertices={view.vertices.length}>
      <svg width={layout.width} height={layout.height}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <polyline
            key={`${e.from}>${e.to}`}
            class="edge"
            marker-end="url(#arrow)"
            points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
          />
        ))}
        {[...layout.boxes].map(([id, box]) => {
          const v = byId.get(id);
          if (!v) return null;
          const phase = v.group ? (v.group.done === v.group.members.length ? 'done' : 'open') : v.node!.phase;
          return (
            <g
              key={id}
              class={`vertex ${v.group ? 'group' : 'node'} v-${phase} ${id === selected ? 'selected' : ''}`}
              data-id={id}
              transform={`translate(${box.x},${box.y})`}
              onClick={() => onSelect(id)}
            >
              <title>{v.group ? `${v.group.label}: ${v.group.members.length} items` : label(v.node!)}</title>
              {v.group ? <GroupVertex v={v} box={box} /> : <NodeVertex v={v} box={box} />}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
