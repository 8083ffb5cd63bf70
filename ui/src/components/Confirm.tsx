// A modal that asks before a command runs; Escape or Cancel closes it.
import { useEffect } from 'preact/hooks';

interface Props {
  title: string;
  text: string;
  action: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function Confirm({ title, text, action, danger, onConfirm, onCancel }: Props) {
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onCancel();
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [onCancel]);
  return (
    <div class="modal-back" onClick={onCancel}>
      <div class="modal" role="dialog" aria-label={title} onClick={(e) => e.stopPropagation()}>
        <h3>{title}</h3>
        <p>{text}</p>
        <div class="modal-buttons">
          <button onClick={onCancel}>Cancel</button>
          <button class={danger ? 'danger' : 'primary'} onClick={onConfirm} autoFocus>
            {action}
          </button>
        </div>
      </div>
    </div>
  );
}
