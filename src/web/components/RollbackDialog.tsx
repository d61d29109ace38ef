import { api, path } from '../api.js';
import { plural, when } from '../format.js';
import type { VersionInfo } from '../types.js';
import { ConfirmDialog } from './ConfirmDialog.js';

/**
 * Asks before a rollback and sends it: POST /collections/{name}/rollback. The server checks
 * the key's scope again.
 */
export function RollbackDialog(props: { apiKey: string; collection: string; version: VersionInfo; onDone: (created: VersionInfo) => void; onClose: () => void }) {
  const { apiKey, collection, version, onDone, onClose } = props;
  return (
    <ConfirmDialog
      id="rollback"
      title={`Roll back “${collection}” to version ${version.version}?`}
      confirmLabel={`Roll back to version ${version.version}`}
      busyLabel="Rolling back…"
      action={() => api<VersionInfo>(apiKey, 'POST', `${path.collection(collection)}/rollback`, { version: version.version })}
      onDone={onDone}
      onClose={onClose}
    >
      <p>
        The documents of version {version.version} ({when(version.createdAt)}: {plural(version.documents, 'document')}, {plural(version.chunks, 'chunk')}) become current
        again, recorded as a new version. Searches see it at once. Later versions are kept: you can roll forward the same way.
      </p>
    </ConfirmDialog>
  );
}
