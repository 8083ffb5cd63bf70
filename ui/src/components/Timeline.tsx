// The timeline (a Gantt chart) of the tasks: one lane per spoke, a row per task running at the
// same time on it, drawn on a canvas so that 10,000 bars are one DOM element. The total time is
// about the longest lane: that is the parallelism a fan-out buys.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { duration } from '../format';
import type { Task } from '../model';
import { label } from '../model';

const ROW = 12;
const LANE_GAP = 8;
const LANE_MIN = 26; // room for the spoke's name and busy time
const HEAD = 22;
const LABELS = 150;
const MAX_ROWS = 16; // per lane; tasks past that overlap the last row

const COLORS: Record<string, string> = {
  Succeeded: '#2e9e5b',
  Failed: '#d64545',
  Error: '#d64545',
  Running: '#3b82f6',
  Pending: '#a3a3a3',
};

interface Lane {
  spoke: string;
  rows: Task[][];
  y: number; // top of the lane
  busy: number; // µs of task time
}

function lanesOf(tasks: Task[], now: number): Lane[] {
  const bySpoke = new Map<string, { rows: Task[][]; ends: number[]; busy: number }>();
  for (const t of tasks) {
    let l = bySpoke.get(t.spoke);
    if (!l) bySpoke.set(t.spoke, (l = { rows: [], ends: [], busy: 0 }));
    const end = t.end || now;
    l.busy += end - t.start;
    let r = l.ends.findIndex((e) => e <= t.start);
    if (r < 0) {
      if (l.rows.length < MAX_ROWS) {
        l.rows.push([]);
        l.ends.push(0);
      }
      r = l.rows.length - 1;
    }
    l.rows[r].push(t);
    l.ends[r] = Math.max(l.ends[r], end);
  }
  let y = HEAD;
  return [...bySpoke.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([spoke, l]) => {
      const lane = { spoke, rows: l.rows, y, busy: l.busy };
      y += Math.max(LANE_MIN, l.rows.length * ROW) + LANE_GAP;
      return lane;
    });
}

interface Props {
  tasks: Task[];
  start: number; // µs
  end: number; // µs (now while running)
  selected: string;
  onSelect: (id: string) => void;
}

export function Timeline({ tasks, start, end, selected, onSelect }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const lanes = useMemo(() => lanesOf(tasks, end), [tasks, end]);
  const height = lanes.length
    ? lanes[lanes.length - 1].y + Math.max(LANE_MIN, lanes[lanes.length - 1].rows.length * ROW) + 4
    : HEAD;
  const span = Math.max(1, end - start);
  const scale = (width - LABELS - 10) / span;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = width * dpr;
    c.height = height * dpr;
    const ctx = c.getContext('2d')!;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#666';
    ctx.strokeStyle = '#e5e5e5';
    for (let i = 0; i <= 5; i++) {
      const x = LABELS + ((width - LABELS - 10) * i) / 5;
      ctx.beginPath();
      ctx.moveTo(x, HEAD - 4);
      ctx.lineTo(x, height);
      ctx.stroke();
      ctx.textAlign = i === 5 ? 'right' : i === 0 ? 'left' : 'center';
      ctx.fillText(duration((span * i) / 5), x, 12);
    }
    ctx.textAlign = 'left';
    for (const lane of lanes) {
      ctx.fillStyle = '#222';
      ctx.fillText(lane.spoke.length > 20 ? `${lane.spoke.slice(0, 19)}…` : lane.spoke, 4, lane.y + 10);
      ctx.fillStyle = '#888';
      ctx.fillText(duration(lane.busy), 4, lane.y + 22);
      lane.rows.forEach((row, r) => {
        const y = lane.y + r * ROW;
        for (const t of row) {
          const x = LABELS + (t.start - start) * scale;
          const w = Math.max(1, ((t.end || end) - t.start) * scale);
          ctx.fillStyle = COLORS[t.node.phase] ?? '#a3a3a3';
          ctx.fillRect(x, y + 1, w, ROW - 2);
          if (t.node.id === selected) {
            ctx.strokeStyle = '#111';
            ctx.strokeRect(x - 1, y, w + 2, ROW);
          }
        }
      });
    }
  }, [lanes, width, height, selected, start, scale]);

  const pick = (e: MouseEvent) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    for (const lane of lanes) {
      const r = Math.floor((py - lane.y) / ROW);
      if (r < 0 || r >= lane.rows.length) continue;
      const t = start + (px - LABELS) / scale;
      const slack = 3 / scale;
      const hit = lane.rows[r].find((x) => x.start - slack <= t && t <= (x.end || end) + slack);
      if (hit) onSelect(hit.node.id);
      return;
    }
  };
  const hover = (e: MouseEvent) => {
    const el = e.currentTarget as HTMLCanvasElement;
    const rect = el.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    for (const lane of lanes) {
      const r = Math.floor((py - lane.y) / ROW);
      if (r < 0 || r >= lane.rows.length) continue;
      const t = start + (px - LABELS) / scale;
      const hit = lane.rows[r].find((x) => x.start <= t && t <= (x.end || end));
      el.title = hit ? `${label(hit.node)} on ${hit.spoke}: ${duration((hit.end || end) - hit.start)}` : '';
      return;
    }
    el.title = '';
  };

  return (
    <div class="timeline" ref={box}>
      {tasks.length === 0 ? (
        <p class="muted">No task has started yet.</p>
      ) : (
        <canvas ref={canvas} style={{ width: `${width}px`, height: `${height}px` }} onClick={pick} onMouseMove={hover} />
      )}
    </div>
  );
}
