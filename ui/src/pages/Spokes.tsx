// /spokes: the spokes connected to the hub (its own local pool is one of them), refreshed every
// two seconds.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ago, nowMicros } from '../format';

interface Spoke {
  name: string;
  labels?: Record<string, string>;
  slots: number;
  running: number;
  draining: boolean;
  local: boolean;
  version?: string;
  lastHeartbeatMicros?: number;
}

export function SpokesPage() {
  const [spokes, setSpokes] = useState<Spoke[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    const load = () =>
      api
        .get<{ items: Spoke[] }>('/api/v1/spokes')
        .then((r) => live && (setSpokes(r.items ?? []), setError('')))
        .catch((e: Error) => live && setError(e.message));
    void load();
    const t = setInterval(load, 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  const now = nowMicros();
  return (
    <div class="page">
      <h2>Spokes</h2>
      {error && <p class="error">{error}</p>}
      {spokes === null ? (
        <p class="muted">Loading…</p>
      ) : spokes.length === 0 ? (
        <p class="muted">No spoke is connected: tasks wait until one joins (`hubspoke spoke --hub …`).</p>
      ) : (
        <table class="table spokes">
          <thead>
            <tr>
              <th>name</th>
              <th>kind</th>
              <th class="num">slots</th>
              <th class="num">running</th>
              <th>last heartbeat</th>
              <th>version</th>
              <th>labels</th>
            </tr>
          </thead>
          <tbody>
            {spokes.map((s) => (
              <tr key={s.name} data-spoke={s.name}>
                <td>
                  <b>{s.name}</b>
                  {s.draining && <span class="phase phase-Pending">draining</span>}
                </td>
                <td>{s.local ? 'local (in the hub)' : 'remote'}</td>
                <td class="num">{s.slots}</td>
                <td class="num">{s.running}</td>
                <td>{s.local ? '—' : ago(s.lastHeartbeatMicros ?? 0, now)}</td>
                <td>{s.version ?? ''}</td>
                <td>
                  {Object.entries(s.labels ?? {}).map(([k, v]) => (
                    <span key={k} class="label">
                      {k}={v}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
