export function Phase({ phase }: { phase: string }) {
  const p = phase || 'Pending';
  return <span class={`phase phase-${p}`}>{p}</span>;
}

export function ProgressBar({ counts, total }: { counts: Record<string, number>; total: number }) {
  return (
    <span class="bar" title={Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}>
      {['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted', 'Running'].map((p) =>
        counts[p] ? (
          <span class={`fill fill-${p}`} style={{ width: `${(100 * counts[p]) / total}%` }} />
        ) : null,
      )}
    </span>
  );
}
