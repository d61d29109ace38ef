import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, path } from '../api.js';
import { plural, when } from '../format.js';
import type { VersionInfo } from '../types.js';
import { ErrorBox } from './ErrorBox.js';

/**
 * Asks before a rollback (a modal <dialog>: focus moves in, Escape cancels) and sends it:
 * POST /collections/{name}/rollback. The server checks the key's scope again.
 */
export function RollbackDialog(props: { apiKey: string; collection: string; version: VersionInfo; onDone: (created: VersionInfo) => void; onClose: () => void }) {
  const { apiKey, collection, version, onDone, onClose } = props;
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
      const created = await api<VersionInfo>(apiKey, 'POST', `${path.collection(collection)}/rollback`, { version: version.version });
      onDone(created);
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="card dialog"
      aria-labelledby="rollback-title"
      aria-describedby="rollback-what"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form onSubmit={confirm}>
        <h2 id="rollback-title">Roll back “{collection}” to version {version.version}?</h2>
        <p id="rollback-what">
          The documents of version {version.version} ({when(version.createdAt)}: {plural(version.documents, 'document')}, {plural(version.chunks, 'chunk')}) become current
          again, recorded as a new version. Searches see it at once. Later versions are kept: you can roll forward the same way.
        </p>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" ref={cancel} onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            {busy ? 'Rolling back…' : `Roll back to version ${version.version}`}
          </button>
        </div>
      </form>
    </dialog>
  );
}
