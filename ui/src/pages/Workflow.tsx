// /workflows/<ns>/<name>[?node=<id>]: the graph with fan-out groups collapsed, the selected
// node's or group's details and log, the timeline of the spokes, the summary, and the commands.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, enc, watchNdjson } from '../api';
import { Confirm } from '../components/Confirm';
import { Graph } from '../components/Graph';
import { Logs } from '../components/Logs';
import { Phase, ProgressBar } from '../components/Phase';
import { Timeline } from '../components/Timeline';
import { VirtualList } from '../components/VirtualList';
import { clockTime, duration, micros, nowMicros } from '../format';
import type { Group, Model, Summary, WfNode } from '../model';
import { FINISHED, buildModel, collapsedGraph, label, summarize } from '../model';
import { navigate } from '../router';

// Groups up to this size can be drawn item by item; larger ones are listed.
const DRAWABLE = 100;

interface Command {
  verb: 'stop' | 'terminate' | 'suspend' | 'resume' | 'retry' | 'resubmit' | 'delete';
  title: string;
  explain: string;
  danger?: boolean;
}

const COMMANDS: Command[] = [
  { verb: 'stop', title: 'Stop', explain: 'Running tasks are stopped; exit handlers still run.', danger: true },
  { verb: 'terminate', title: 'Terminate', explain: 'Running tasks are killed; exit handlers do not run.', danger: true },
  { verb: 'suspend', title: 'Suspend', explain: 'No new task starts until it is resumed.' },
  { verb: 'resume', title: 'Resume', explain: 'Tasks start again.' },
  { verb: 'retry', title: 'Retry', explain: 'Runs the failed parts again under the same name, keeping what succeeded.' },
  { verb: 'resubmit', title: 'Resubmit', explain: 'Submits the same workflow again under a new name.' },
  { verb: 'delete', title: 'Delete', explain: 'Removes the workflow, its nodes and its logs.', danger: true },
];

function applicable(verb: Command['verb'], wf: any): boolean {
  const phase = wf?.status?.phase ?? '';
  const finished = FINISHED.has(phase);
  const suspended = wf?.spec?.suspend === true;
  switch (verb) {
    case 'stop':
    case 'terminate':
      return !finished;
    case 'suspend':
      return !finished && !suspended;
    case 'resume':
      return !finished;
    case 'retry':
      return phase === 'Failed' || phase === 'Error';
    case 'resubmit':
      return finished;
    case 'delete':
      return true;
  }
}

function Params({ title, params }: { title: string; params?: { name: string; value?: string }[] }) {
  if (!params?.length) return null;
  return (
    <>
      <dt>{title}</dt>
      <dd>
        <table class="kv">
          <tbody>
            {params.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td>
                <td>
                  <code>{p.value ?? ''}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </dd>
    </>
  );
}

function NodeDetails({ ns, wf, node, now }: { ns: string; wf: string; node: WfNode; now: number }) {
  const start = micros(node, 'startedAt');
  const end = micros(node, 'finishedAt');
  return (
    <div class="details" data-node={node.id}>
      <h3>
        {label(node)} <Phase phase={node.phase} />
      </h3>
      <dl>
        <dt>type</dt>
        <dd>
          {node.type}
          {node.templateName ? ` · template ${node.templateName}` : ''}
        </dd>
        {node.hostNodeName && (
          <>
            <dt>spoke</dt>
            <dd>{node.hostNodeName}</dd>
          </>
        )}
        <dt>timings</dt>
        <dd>
          {start ? `started ${clockTime(start)}` : 'not started'}
          {end ? `, finished ${clockTime(end)}` : ''}
          {start ? ` (${duration((end || now) - start)})` : ''}
        </dd>
        {node.message && (
          <>
            <dt>message</dt>
            <dd class="message">{node.message}</dd>
          </>
        )}
        {node.outputs?.exitCode !== undefined && (
          <>
            <dt>exit code</dt>
            <dd>{node.outputs.exitCode}</dd>
          </>
        )}
        {node.hubspoke?.retries ? (
          <>
            <dt>retries</dt>
            <dd>{node.hubspoke.retries}</dd>
          </>
        ) : null}
        {node.hubspoke?.childWorkflow && (
          <>
            <dt>child workflow</dt>
            <dd>
              <a href={`/workflows/${enc(ns)}/${enc(node.hubspoke.childWorkflow)}`}>{node.hubspoke.childWorkflow}</a>
            </dd>
          </>
        )}
        <Params title="inputs" params={node.inputs?.parameters} />
        <Params title="outputs" params={node.outputs?.parameters} />
        {node.outputs?.result !== undefined && (
          <>
            <dt>result</dt>
            <dd>
              <pre class="result">{node.outputs.result}</pre>
            </dd>
          </>
        )}
      </dl>
      {node.type === 'Pod' && (
        <>
          <h4>Log</h4>
          <Logs ns={ns} workflow={wf} node={node.id} />
        </>
      )}
    </div>
  );
}

function GroupDetails({
  group,
  expanded,
  onToggle,
  onSelect,
  now,
}: {
  group: Group;
  expanded: boolean;
  onToggle: () => void;
  onSelect: (id: string) => void;
  now: number;
}) {
  const total = group.members.length;
  return (
    <div class="details group-details" data-group={group.id}>
      <h3>
        {group.label} <span class="muted">×{total} items</span>
      </h3>
      <p>
        <strong>
          {group.done}/{total}
        </strong>{' '}
        done · {Object.entries(group.counts).map(([p, c]) => `${c} ${p}`).join(' · ')}
      </p>
      <ProgressBar counts={group.counts} total={total} />
      <p>
        {total <= DRAWABLE ? (
          <button onClick={onToggle}>{expanded ? 'Collapse in the graph' : 'Expand in the graph'}</button>
        ) : (
          <span class="muted">Too many items to draw one by one; they are listed here.</span>
        )}
      </p>
      <VirtualList
        className="items"
        items={group.members}
        rowHeight={26}
        height={320}
        rowKey={(m) => m.id}
        render={(m) => {
          const s = micros(m, 'startedAt');
          const e = micros(m, 'finishedAt');
          return (
            <a class="item" href="#" onClick={(ev) => (ev.preventDefault(), onSelect(m.id))}>
              <Phase phase={m.phase} />
              <span class="item-name">{label(m)}</span>
              <span class="muted">{s ? duration((e || now) - s) : ''}</span>
              <span class="muted">{m.hostNodeName ?? ''}</span>
            </a>
          );
        }}
      />
    </div>
  );
}

function SummaryView({ s, model, onSelect }: { s: Summary; model: Model; onSelect: (id: string) => void }) {
  const groups = [...model.groups.values()];
  return (
    <div class="summary">
      <div class="figures">
        <div>
          <b>{s.tasks}</b> tasks
        </div>
        {Object.entries(s.byPhase).map(([p, c]) => (
          <div key={p}>
            <b>{c}</b> <span class={`phase-text-${p}`}>{p.toLowerCase()}</span>
          </div>
        ))}
        <div>
          wall time <b>{duration(s.wall)}</b>
        </div>
        <div>
          sum of task time <b>{duration(s.taskTime)}</b>
        </div>
        <div title="sum of task time / wall time">
          speed-up <b>{s.speedUp ? `×${s.speedUp.toFixed(1)}` : '–'}</b>
        </div>
      </div>
      {groups.length > 0 && (
        <>
          <h4>Fan-out groups</h4>
          <table class="table">
            <tbody>
              {groups.map((g) => (
                <tr key={g.id}>
                  <td>
                    <a href="#" onClick={(e) => (e.preventDefault(), onSelect(g.id))}>
                      {g.label}
                    </a>
                  </td>
                  <td>
                    {g.done}/{g.members.length}
                  </td>
                  <td>{Object.entries(g.counts).map(([p, c]) => `${c} ${p}`).join(', ')}</td>
                  <td>
                    <ProgressBar counts={g.counts} total={g.members.length} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {s.failed.length > 0 && (
        <>
          <h4>Failed ({s.failed.length})</h4>
          <VirtualList
            className="failed"
            items={s.failed}
            rowHeight={24}
            height={200}
            rowKey={(n) => n.id}
            render={(n) => (
              <a class="item" href="#" onClick={(e) => (e.preventDefault(), onSelect(n.id))}>
                <span class="item-name">{label(n)}</span>
                <span class="message">{n.message ?? ''}</span>
              </a>
            )}
          />
        </>
      )}
      <div class="columns">
        <div>
          <h4>Slowest tasks</h4>
          <table class="table">
            <tbody>
              {s.slowest.map((t) => (
                <tr key={t.node.id}>
                  <td>
                    <a href="#" onClick={(e) => (e.preventDefault(), onSelect(t.node.id))}>
                      {label(t.node)}
                    </a>
                  </td>
                  <td>{t.spoke}</td>
                  <td class="num">{duration((t.end || nowMicros()) - t.start)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h4>Spokes by busy time</h4>
          <table class="table">
            <tbody>
              {s.spokes.map((sp) => (
                <tr key={sp.spoke}>
                  <td>{sp.spoke}</td>
                  <td class="num">{sp.tasks} tasks</td>
                  <td class="num">{duration(sp.busy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

// What the watch stream's objects (which carry no nodes) show of a workflow's progress.
function signature(wf: any): string {
  const st = wf?.status ?? {};
  return [st.phase, st.progress, st.message, st.finishedAt, wf?.spec?.suspend].join('|');
}

function useNow(running: boolean): number {
  const [now, setNow] = useState(nowMicros);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(nowMicros()), 1000);
    return () => clearInterval(t);
  }, [running]);
  return running ? now : nowMicros();
}

export function WorkflowPage({ ns, name, node }: { ns: string; name: string; node: string }) {
  const [wf, setWf] = useState<any>(null);
  const [error, setError] = useState('');
  const [gone, setGone] = useState(false);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [asking, setAsking] = useState<Command | null>(null);
  const [notice, setNotice] = useState('');

  const path = `/api/v1/workflows/${enc(ns)}/${enc(name)}`;

  // The workflow with its nodes, fetched again (at most every second, or three times as long as a
  // fetch takes) whenever the watch stream says it changed.
  useEffect(() => {
    setWf(null);
    setError('');
    setGone(false);
    setExpanded(new Set());
    const abort = new AbortController();
    let inFlight = false;
    let again = false;
    let timer = 0;
    let last = 0;
    let cost = 0;
    let loaded = ''; // signature() of what was fetched last
    const load = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      const t0 = performance.now();
      try {
        const got = await api.get(path);
        loaded = signature(got);
        if (!abort.signal.aborted) setWf(got);
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) setError(`Workflow ${name} was not found in namespace ${ns}.`);
        else setError((e as Error).message);
      } finally {
        cost = performance.now() - t0;
        last = performance.now();
        inFlight = false;
      }
      if (again && !abort.signal.aborted) {
        again = false;
        schedule();
      }
    };
    const schedule = () => {
      if (timer) return;
      const wait = Math.max(0, last + Math.max(1000, 3 * cost) - performance.now());
      timer = window.setTimeout(() => {
        timer = 0;
        void load();
      }, wait);
    };
    void load();
    const watch = `/api/v1/workflow-events/${enc(ns)}?listOptions.fieldSelector=${enc(`metadata.name=${name}`)}`;
    let opened = 0;
    void watchNdjson(
      watch,
      () => {
        if (opened++ > 0) schedule(); // reconnected: it may have changed meanwhile
      },
      (ev) => {
        const type = ev?.result?.type;
        if (type === 'DELETED') setGone(true);
        else if (type === 'MODIFIED' || signature(ev?.result?.object) !== loaded) schedule();
      },
      () => {},
      abort.signal,
    );
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [ns, name]);

  const phase: string = wf?.status?.phase ?? '';
  const running = wf !== null && !FINISHED.has(phase);
  const now = useNow(running);
  const model = useMemo(() => (wf ? buildModel(wf) : null), [wf]);
  const view = useMemo(() => (model ? collapsedGraph(model, expanded) : null), [model, expanded]);
  const summary = useMemo(() => (model ? summarize(model, wf, now) : null), [model, running ? now : 0]);

  const select = (id: string) =>
    navigate(`/workflows/${enc(ns)}/${enc(name)}${id ? `?node=${enc(id)}` : ''}`, true);
  const toggle = (gid: string) => {
    const next = new Set(expanded);
    if (next.has(gid)) next.delete(gid);
    else next.add(gid);
    setExpanded(next);
  };

  const run = async (c: Command) => {
    setAsking(null);
    setNotice('');
    try {
      if (c.verb === 'delete') {
        await api.del(path);
        navigate(`/workflows/${enc(ns)}`);
        return;
      }
      const reply = await api.put(`${path}/${c.verb}`);
      if (c.verb === 'resubmit' && reply?.metadata?.name) {
        navigate(`/workflows/${enc(ns)}/${enc(reply.metadata.name)}`);
        return;
      }
      setNotice(`${c.title}: accepted`);
      setWf(await api.get(path));
    } catch (e) {
      setNotice(`${c.title} failed: ${(e as Error).message}`);
    }
  };

  if (error) {
    return (
      <div class="page">
        <p class="error">{error}</p>
        <p>
          <a href={`/workflows/${enc(ns)}`}>Back to the workflows</a>
        </p>
      </div>
    );
  }
  if (!wf || !model || !view || !summary) return <div class="page muted">Loading {name}…</div>;

  const wfStart = micros(wf.status, 'startedAt');
  const wfEnd = micros(wf.status, 'finishedAt') || now;
  const selectedNode = model.nodes.get(node);
  const selectedGroup = model.groups.get(node);
  // A member of a collapsed group is shown selected on its group.
  const shownSelected = view.vertices.some((v) => v.id === node) ? node : (model.groupOf.get(node) ?? node);

  return (
    <div class="page workflow-page">
      <div class="wf-head">
        <h2>
          {name} <Phase phase={phase} />
        </h2>
        <div class="muted">
          {wf.status?.progress ? `${wf.status.progress} tasks · ` : ''}
          {wfStart ? `started ${clockTime(wfStart)} · ${duration(wfEnd - wfStart)}` : 'not started'}
          {wf.spec?.suspend ? ' · suspended' : ''}
          {wf.status?.message ? ` · ${wf.status.message}` : ''}
        </div>
        <div class="actions">
          {COMMANDS.map((c) => (
            <button
              key={c.verb}
              class={c.danger ? 'danger-outline' : ''}
              disabled={!applicable(c.verb, wf) || gone}
              onClick={() => setAsking(c)}
            >
              {c.title}
            </button>
          ))}
        </div>
        {notice && <p class="notice">{notice}</p>}
        {gone && <p class="error">This workflow has been deleted.</p>}
      </div>
      <div class="wf-main">
        <section class="panel graph-panel">
          <h3 class="panel-title">
            Graph <span class="muted small">{model.nodes.size} nodes</span>
          </h3>
          <Graph view={view} selected={shownSelected} onSelect={select} />
        </section>
        <section class="panel side-panel">
          {selectedGroup ? (
            <GroupDetails
              group={selectedGroup}
              expanded={expanded.has(selectedGroup.id)}
              onToggle={() => toggle(selectedGroup.id)}
              onSelect={select}
              now={now}
            />
          ) : selectedNode ? (
            <NodeDetails ns={ns} wf={name} node={selectedNode} now={now} />
          ) : node ? (
            <p class="error">This workflow has no node {node}.</p>
          ) : (
            <p class="muted">Click a node or a group in the graph to see its details and log.</p>
          )}
        </section>
      </div>
      <section class="panel">
        <h3 class="panel-title">
          Timeline <span class="muted small">tasks by spoke; total time ≈ the longest spoke</span>
        </h3>
        <Timeline tasks={model.tasks} start={wfStart} end={wfEnd} selected={node} onSelect={select} />
      </section>
      <section class="panel">
        <h3 class="panel-title">Summary</h3>
        <SummaryView s={summary} model={model} onSelect={select} />
      </section>
      {asking && (
        <Confirm
          title={`${asking.title} ${name}?`}
          text={asking.explain}
          action={asking.title}
          danger={asking.danger}
          onConfirm={() => run(asking)}
          onCancel={() => setAsking(null)}
        />
      )}
    </div>
  );
}
