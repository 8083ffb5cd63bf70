// /workflows/<ns> (and /): every workflow, newest first, kept live by the watch stream; filters by
// phase, label selector and name prefix live in the URL.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { enc, watchNdjson } from '../api';
import { Phase } from '../components/Phase';
import { VirtualList } from '../components/VirtualList';
import { PHASES, clockTime, duration, micros, nowMicros } from '../format';
import { FINISHED } from '../model';
import { navigate } from '../router';

interface Row {
  name: string;
  phase: string;
  progress: string;
  created: number;
  started: number;
  finished: number;
  message: string;
}

function rowOf(wf: any): Row {
  return {
    name: wf?.metadata?.name ?? '',
    phase: wf?.status?.phase ?? 'Pending',
    progress: wf?.status?.progress ?? '',
    created: micros(wf?.status, 'creationTimestamp') || micros(wf?.metadata, 'creationTimestamp'),
    started: micros(wf?.status, 'startedAt'),
    finished: micros(wf?.status, 'finishedAt'),
    message: wf?.status?.message ?? '',
  };
}

export function ListPage({ ns, query }: { ns: string; query: URLSearchParams }) {
  const phase = query.get('phase') ?? '';
  const labels = query.get('labels') ?? '';
  const prefix = query.get('prefix') ?? '';
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [error, setError] = useState('');
  const [loaded, setLoaded] = useState(false);
  const [labelInput, setLabelInput] = useState(labels);
  const [now, setNow] = useState(nowMicros);

  const setFilter = (key: string, value: string) => {
    const q = new URLSearchParams(query);
    if (value) q.set(key, value);
    else q.delete(key);
    const s = q.toString();
    navigate(`/workflows/${enc(ns)}${s ? `?${s}` : ''}`, true);
  };

  // The watch stream sends every matching workflow first, then each change; updates are applied
  // once per animation frame.
  useEffect(() => {
    const abort = new AbortController();
    const state = new Map<string, Row>();
    let frame = 0;
    let idle = 0;
    setRows(new Map());
    setError('');
    setLoaded(false);
    const flush = () => {
      frame = 0;
      setRows(new Map(state));
      setLoaded(true);
    };
    const path =
      `/api/v1/workflow-events/${enc(ns)}` + (labels ? `?listOptions.labelSelector=${enc(labels)}` : '');
    void watchNdjson(
      path,
      () => {
        state.clear(); // the hub sends every workflow again, at once
        setError('');
        clearTimeout(idle);
        idle = setTimeout(() => setLoaded(true), 300); // when none matches it sends nothing
      },
      (ev) => {
        const type = ev?.result?.type;
        const obj = ev?.result?.object;
        const name = obj?.metadata?.name;
        if (!name) return;
        if (type === 'DELETED') state.delete(name);
        else state.set(name, rowOf(obj));
        if (!frame) frame = requestAnimationFrame(flush);
      },
      (e) => {
        setError(`${labels ? `Label selector "${labels}": ` : ''}${e.message}`);
        setLoaded(true);
      },
      abort.signal,
    );
    return () => {
      abort.abort();
      clearTimeout(idle);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ns, labels]);

  useEffect(() => {
    const t = setInterval(() => setNow(nowMicros()), 1000);
    return () => clearInterval(t);
  }, []);

  const shown = useMemo(
    () =>
      [...rows.values()]
        .filter((r) => (!phase || r.phase === phase) && r.name.startsWith(prefix))
        .sort((a, b) => b.created - a.created || a.name.localeCompare(b.name)),
    [rows, phase, prefix],
  );

  return (
    <div class="page">
      <h2>Workflows</h2>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), setFilter('labels', labelInput.trim()))}>
        <label>
          phase{' '}
          <select name="phase" value={phase} onChange={(e) => setFilter('phase', (e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {PHASES.filter((p) => p !== 'Skipped' && p !== 'Omitted').map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          name prefix{' '}
          <input
            name="prefix"
            value={prefix}
            placeholder="hello-"
            onInput={(e) => setFilter('prefix', (e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          labels{' '}
          <input
            name="labels"
            value={labelInput}
            placeholder="team=infra,env!=dev"
            onInput={(e) => setLabelInput((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Apply</button>
        <span class="muted">
          {shown.length} of {rows.size}
        </span>
      </form>
      {error && <p class="error">{error}</p>}
      <div class="wf-table">
        <div class="wf-row head">
          <span>name</span>
          <span>phase</span>
          <span>progress</span>
          <span>started</span>
          <span>duration</span>
          <span>message</span>
        </div>
        {!loaded ? (
          <p class="muted">Loading…</p>
        ) : shown.length === 0 && !error ? (
          <p class="muted">
            No workflows{phase || prefix || labels ? ' match these filters' : ' yet'}.{' '}
            <a href="/submit">Submit one from a template</a>.
          </p>
        ) : (
          <VirtualList
            items={shown}
            rowHeight={34}
            height={Math.max(300, window.innerHeight - 230)}
            rowKey={(r) => r.name}
            render={(r) => (
              <a class="wf-row" data-name={r.name} href={`/workflows/${enc(ns)}/${enc(r.name)}`}>
                <span class="name">{r.name}</span>
                <span>
                  <Phase phase={r.phase} />
                </span>
                <span>{r.progress}</span>
                <span>{clockTime(r.started)}</span>
                <span>{r.started ? duration((r.finished || (FINISHED.has(r.phase) ? r.started : now)) - r.started) : ''}</span>
                <span class="message" title={r.message}>
                  {r.message}
                </span>
              </a>
            )}
          />
        )}
      </div>
    </div>
  );
}
