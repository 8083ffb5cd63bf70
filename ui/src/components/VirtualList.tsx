// A list that renders only the rows in view (plus a margin), so 10,000 items cost a few dozen
// DOM nodes.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

interface Props<T> {
  items: T[];
  rowHeight: number;
  height: number; // the most the list takes on screen
  render: (item: T, index: number) => ComponentChildren;
  rowKey: (item: T) => string;
  className?: string;
}

const MARGIN = 8;

export function VirtualList<T>({ items, rowHeight, height, render, rowKey, className }: Props<T>) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - MARGIN);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + MARGIN);
  const shown = items.slice(first, last);
  return (
    <div
      class={`vlist ${className ?? ''}`}
      style={{ maxHeight: `${height}px` }}
      onScroll={(e) => setTop((e.currentTarget as HTMLElement).scrollTop)}
    >
      <div style={{ height: `${items.length * rowHeight}px`, position: 'relative' }}>
        {shown.map((item, i) => (
          <div
            key={rowKey(item)}
            class="vrow"
            style={{ top: `${(first + i) * rowHeight}px`, height: `${rowHeight}px` }}
          >
            {render(item, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
