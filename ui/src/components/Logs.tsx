// A task's log, followed live while the workflow runs (the hub ends the stream when it finishes).
import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, streamNdjson } from '../api';

const KEEP = 5000; // lines kept on screen

export function Logs({ ns, workflow, node }: { ns: string; workflow: string; node: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<'following' | 'ended' | string>('following');
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    setState('following');
    const abort = new AbortController();
    let pending: string[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const add = pending;
      pending = [];
      setLines((old) => {
        const all = old.concat(add);
        return all.length > KEEP ? all.slice(all.length - KEEP) : all;
      });
    };
    const path = `/api/v1/workflows/${enc(ns)}/${enc(workflow)}/log?podName=${enc(node)}&logOptions.follow=true`;
    streamNdjson(
      path,
      (item) => {
        pending.push(String(item?.result?.content ?? ''));
        if (!frame) frame = requestAnimationFrame(flush);
      },
      abort.signal,
    )
      .then(() => {
        if (abort.signal.aborted) return;
        if (frame) cancelAnimationFrame(frame);
        flush();
        setState('ended');
      })
      .catch((e: Error) => !abort.signal.aborted && setState(e.message));
    return () => {
      abort.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ns, workflow, node]);

  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div class="logs-box">
      <div class="muted small">
        {state === 'following' ? 'following the log…' : state === 'ended' ? `${lines.length} lines` : state}
      </div>
      <pre class="logs" ref={pre}>
        {lines.length ? lines.join('\n') : state === 'ended' ? '(no output)' : ''}
      </pre>
    </div>
  );
}
