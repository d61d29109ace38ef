import type { ApiError } from '../api.js';

/** An API error where it happened: the server's own message, its code and the field it names. */
export function ErrorBox({ error, id }: { error: ApiError | Error | null; id?: string }) {
  if (!error) return null;
  const e = error as ApiError;
  return (
    <div class="error" role="alert" id={id}>
      <strong>{e.status ? `Error ${e.status}` : 'Error'}{e.code ? ` (${e.code})` : ''}:</strong> <span class="error-message">{e.message}</span>
      {e.field ? <span class="error-field"> (field: {e.field})</span> : null}
    </div>
  );
}
