// A workflow's nodes (status.nodes) as the workflow page shows them: fan-out groups (the items of
// one looped step or task under one parent), the graph with collapsed groups folded into one
// vertex each, the tasks for the timeline and the figures of the summary. Everything here is
// linear in the number of nodes, so a 10,000-node workflow costs milliseconds.
import { micros } from './format';

export interface Param {
  name: string;
  value?: string;
}

export interface WfNode {
  id: string;
  name: string;
  displayName?: string;
  type: string;
  templateName?: string;
  phase: string;
  boundaryID?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  children?: string[];
  hostNodeName?: string;
  inputs?: { parameters?: Param[] };
  outputs?: { parameters?: Param[]; result?: string; exitCode?: string };
  hubspoke?: {
    fanout?: string;
    itemIndex?: number;
    startedAt?: number;
    finishedAt?: number;
    retries?: number;
    childWorkflow?: string;
  };
}

export const FINISHED = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);

export interface Group {
  id: string;
  label: string; // the looped step or task
  members: WfNode[]; // by item index
  counts: Record<string, number>; // by phase
  done: number;
}

export interface Task {
  node: WfNode;
  start: number; // µs
  end: number; // µs; 0 while running
  spoke: string;
}

export interface Model {
  nodes: Map<string, WfNode>;
  templates: Map<string, any>; // spec.templates by name, for DAG dependencies
  groups: Map<string, Group>;
  groupOf: Map<string, string>; // member id -> group id
  up: Map<string, string>; // node id -> the node it sits inside (retry parent or boundary)
  tasks: Task[]; // task nodes that started, in start order
}

export function buildModel(workflow: any): Model {
  const raw: Record<string, WfNode> = workflow?.status?.nodes ?? {};
  const nodes = new Map<string, WfNode>(Object.entries(raw));

  const up = new Map<string, string>();
  const groups = new Map<string, Group>();
  const groupOf = new Map<string, string>();
  for (const n of nodes.values()) {
    if (n.boundaryID && nodes.has(n.boundaryID)) up.set(n.id, n.boundaryID);
  }
  for (const p of nodes.values()) {
    for (const cid of p.children ?? []) {
      const c = nodes.get(cid);
      if (!c) continue;
      if (p.type === 'Retry') up.set(cid, p.id); // attempts belong to their retry node
      const fanout = c.hubspoke?.fanout;
      if (fanout === undefined || c.hubspoke?.itemIndex === undefined || groupOf.has(cid)) continue;
      const gid = `group:${p.id}:${fanout}`;
      let g = groups.get(gid);
      if (!g) {
        g = { id: gid, label: fanout || c.templateName || 'items', members: [], counts: {}, done: 0 };
        groups.set(gid, g);
      }
      g.members.push(c);
      groupOf.set(cid, gid);
    }
  }
  // A single item is shown as itself.
  for (const [gid, g] of groups) {
    if (g.members.length < 2) {
      groups.delete(gid);
      for (const m of g.members) groupOf.delete(m.id);
      continue;
    }
    g.members.sort((a, b) => (a.hubspoke?.itemIndex ?? 0) - (b.hubspoke?.itemIndex ?? 0));
    for (const m of g.members) {
      g.counts[m.phase] = (g.counts[m.phase] ?? 0) + 1;
      if (FINISHED.has(m.phase)) g.done++;
    }
  }

  const tasks: Task[] = [];
  for (const n of nodes.values()) {
    if (n.type !== 'Pod') continue;
    const start = micros(n, 'startedAt');
    if (!start) continue;
    tasks.push({ node: n, start, end: micros(n, 'finishedAt'), spoke: n.hostNodeName || '(unknown)' });
  }
  tasks.sort((a, b) => a.start - b.start);
  const templates = new Map<string, any>();
  for (const t of workflow?.spec?.templates ?? []) {
    if (t && typeof t.name === 'string') templates.set(t.name, t);
  }
  return { nodes, templates, groups, groupOf, up, tasks };
}

export interface Vertex {
  id: string;
  node?: WfNode; // a node, or
  group?: Group; // a collapsed fan-out group
}

export interface GraphView {
  vertices: Vertex[];
  edges: [string, string][];
  shape: string; // identical for graphs that lay out identically
}

// The graph with every group not in `expanded` folded into one vertex, together with everything
// inside its items (their steps, retries, nested groups).
export function collapsedGraph(model: Model, expanded: Set<string>): GraphView {
  const folded = new Map<string, string | null>();
  // The outermost collapsed group that holds `id`, or null.
  const foldedInto = (id: string): string | null => {
    const known = folded.get(id);
    if (known !== undefined) return known;
    folded.set(id, null); // guards against a cycle in malformed input
    const parent = model.up.get(id);
    let g = parent ? foldedInto(parent) : null;
    if (g === null) {
      const own = model.groupOf.get(id);
      if (own && !expanded.has(own)) g = own;
    }
    folded.set(id, g);
    return g;
  };
  const rep = (id: string) => foldedInto(id) ?? id;

  const vertices: Vertex[] = [];
  const seen = new Set<string>();
  const edges: [string, string][] = [];
  const edgeSeen = new Set<string>();
  const edge = (fromId: string, toId: string) => {
    const [a, b] = [rep(fromId), rep(toId)];
    const key = `${a}\n${b}`;
    if (a === b || edgeSeen.has(key)) return;
    edgeSeen.add(key);
    edges.push([a, b]);
  };
  const kids = (n: WfNode) => (n.children ?? []).filter((c) => model.nodes.has(c));
  // Where what follows a step or task starts from: the items of a group, else the node itself.
  const ends = (id: string) => {
    const n = model.nodes.get(id)!;
    const k = n.type === 'StepGroup' || n.type === 'TaskGroup' ? kids(n) : [];
    return k.length ? k : [id];
  };
  for (const n of model.nodes.values()) {
    const r = rep(n.id);
    if (!seen.has(r)) {
      seen.add(r);
      vertices.push(r === n.id ? { id: r, node: n } : { id: r, group: model.groups.get(r) });
    }
    const children = kids(n);
    if (n.type === 'Steps' && children.length > 1 && children.every((c) => model.nodes.get(c)!.type === 'StepGroup')) {
      // The step groups run one after another: chain them as Argo draws them.
      edge(n.id, children[0]);
      for (let i = 1; i < children.length; i++) for (const e of ends(children[i - 1])) edge(e, children[i]);
    } else if (n.type !== 'DAG' || !dagEdges(model, n, children, ends, edge)) {
      for (const c of children) edge(n.id, c);
    }
  }
  const shape = vertices.map((v) => v.id).join('\n') + '\n\n' + [...edgeSeen].join('\n');
  return { vertices, edges, shape };
}

// Edges of a DAG node from its template's task dependencies (`dependencies` or the task names a
// `depends` expression mentions); false when the template is not in the workflow's spec.
function dagEdges(
  model: Model,
  dag: WfNode,
  children: string[],
  ends: (id: string) => string[],
  edge: (from: string, to: string) => void,
): boolean {
  const tasks: any[] = model.templates.get(dag.templateName ?? '')?.dag?.tasks ?? [];
  if (!tasks.length) return false;
  const byTask = new Map<string, string>();
  for (const c of children) byTask.set(label(model.nodes.get(c)!), c);
  const names = new Set(tasks.map((t) => t?.name));
  for (const t of tasks) {
    const id = byTask.get(t?.name);
    if (!id) continue;
    let deps: string[] = Array.isArray(t.dependencies) ? t.dependencies : [];
    if (typeof t.depends === 'string') {
      deps = t.depends
        .split(/[^A-Za-z0-9_.-]+/)
        .map((w: string) => w.split('.')[0])
        .filter((w: string) => names.has(w));
    }
    const from = deps.map((d) => byTask.get(d)).filter((d): d is string => !!d);
    if (!from.length) edge(dag.id, id);
    for (const d of from) for (const e of ends(d)) edge(e, id);
  }
  const placed = new Set(byTask.values());
  for (const c of children) if (!placed.has(c)) edge(dag.id, c);
  return true;
}

export interface Summary {
  tasks: number;
  byPhase: Record<string, number>;
  failed: WfNode[];
  slowest: Task[];
  spokes: { spoke: string; tasks: number; busy: number }[];
  taskTime: number; // µs, sum over finished tasks
  wall: number; // µs
  speedUp: number;
}

export function summarize(model: Model, workflow: any, now: number): Summary {
  const byPhase: Record<string, number> = {};
  const failed: WfNode[] = [];
  let tasks = 0;
  for (const n of model.nodes.values()) {
    if (n.type !== 'Pod') continue;
    tasks++;
    byPhase[n.phase] = (byPhase[n.phase] ?? 0) + 1;
    if (n.phase === 'Failed' || n.phase === 'Error') failed.push(n);
  }
  let taskTime = 0;
  const spokes = new Map<string, { spoke: string; tasks: number; busy: number }>();
  for (const t of model.tasks) {
    const spent = (t.end || now) - t.start;
    taskTime += spent;
    const s = spokes.get(t.spoke) ?? { spoke: t.spoke, tasks: 0, busy: 0 };
    s.tasks++;
    s.busy += spent;
    spokes.set(t.spoke, s);
  }
  const start = micros(workflow?.status, 'startedAt');
  const end = micros(workflow?.status, 'finishedAt') || now;
  const wall = start ? end - start : 0;
  const slowest = [...model.tasks]
    .sort((a, b) => (b.end || now) - b.start - ((a.end || now) - a.start))
    .slice(0, 5);
  return {
    tasks,
    byPhase,
    failed,
    slowest,
    spokes: [...spokes.values()].sort((a, b) => b.busy - a.busy),
    taskTime,
    wall,
    speedUp: wall > 0 ? taskTime / wall : 0,
  };
}

export function label(n: WfNode): string {
  return n.displayName || n.name;
}
