// How times, durations and phases read on every page.

export const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted'];

export function duration(micros: number): string {
  if (!(micros >= 0)) return '';
  const s = micros / 1e6;
  if (s < 1) return `${Math.round(micros / 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function clockTime(micros: number): string {
  if (!micros) return '';
  const d = new Date(micros / 1000);
  const today = new Date();
  const time = d.toLocaleTimeString(undefined, { hour12: false });
  return d.toDateString() === today.toDateString()
    ? time
    : `${d.toLocaleDateString()} ${time}`;
}

export function ago(micros: number, now: number): string {
  if (!micros) return 'never';
  const s = Math.max(0, Math.round((now - micros) / 1e6));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

// Microseconds from an object that carries them under `hubspoke`, else an RFC 3339 string.
export function micros(obj: any, key: string): number {
  const exact = obj?.hubspoke?.[key];
  if (typeof exact === 'number') return exact;
  const text = obj?.[key];
  if (typeof text !== 'string' || !text) return 0;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? 0 : ms * 1000;
}

export function nowMicros(): number {
  return Date.now() * 1000;
}
