import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api.js';
import { ErrorBox } from './ErrorBox.js';

/**
 * Asks before a change (a modal <dialog>: focus moves to Cancel, Escape cancels) and runs it
 * on confirmation. While it runs both buttons are disabled and the confirm button says so;
 * the API's error is shown in the dialog, which stays open. `onError` hears of the error too
 * (a refused promotion still records its gate, so the page behind may refresh).
 */
export function ConfirmDialog<T>(props: {
  id: string;
  title: ComponentChildren;
  children: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  action: () => Promise<T>;
  onDone: (result: T) => void;
  onClose: () => void;
  onError?: (e: ApiError) => void;
}) {
  const { id, action, onDone, onClose, onError } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    cancel.current?.focus();
    return () => d?.close();
  }, []);

  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await action());
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
      onError?.(err as ApiError);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="card dialog"
      id={id}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-what`}
      aria-busy={busy}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form onSubmit={confirm}>
        <h2 id={`${id}-title`}>{props.title}</h2>
        <div id={`${id}-what`}>{props.children}</div>
        <ErrorBox error={error} id={`${id}-error`} />
        <div class="actions">
          <button type="button" ref={cancel} onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            {busy ? props.busyLabel : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
