import { useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import type { Session } from '../types.js';
import { ErrorBox } from './ErrorBox.js';

/** Asks for an API key and checks it with GET /session before the page uses it. */
export function KeyForm({ onKey, initialError }: { onKey: (key: string, session: Session) => void; initialError: ApiError | null }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<ApiError | null>(initialError);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = value.trim();
    if (!key) {
      setError(new ApiError(0, 'MISSING_KEY', 'paste an API key first'));
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const session = await api<Session>(key, 'GET', '/session');
      onKey(key, session);
    } catch (err) {
      setError(err as ApiError);
      input.current?.select();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="keyform-page">
      <form class="keyform card" onSubmit={submit} aria-describedby="key-help" noValidate>
        <h1>quarry</h1>
        <p>This page searches and inspects the collections of this quarry server through its HTTP API. It needs an API key.</p>
        <label for="api-key">API key</label>
        <div class="row">
          <input
            id="api-key"
            ref={input}
            type="password"
            autoComplete="off"
            spellcheck={false}
            autoFocus
            placeholder="qk_…"
            value={value}
            aria-invalid={error ? true : undefined}
            aria-errormessage={error ? 'key-error' : undefined}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Use this key'}</button>
        </div>
        <ErrorBox error={error} id="key-error" />
        <p id="key-help" class="hint">
          Create one with <code>quarry keys create --scope read --collection '*'</code>. The key is kept only for this browser tab
          (sessionStorage) and sent as <code>Authorization: Bearer</code>; closing the tab forgets it.
        </p>
      </form>
    </main>
  );
}
