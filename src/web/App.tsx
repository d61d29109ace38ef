import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, onUnauthorized, storedKey, storeKey } from './api.js';
import { CollectionView } from './components/CollectionView.js';
import { ErrorBox } from './components/ErrorBox.js';
import { KeyForm } from './components/KeyForm.js';
import { DEFAULT_FORM, SearchView, type SearchForm, type SearchState } from './components/SearchView.js';
import { hrefOf, useRoute } from './router.js';
import type { CollectionSummary, Session } from './types.js';

export function App() {
  const [key, setKey] = useState<string | null>(() => storedKey());
  const [session, setSession] = useState<Session | null>(null);
  const [keyError, setKeyError] = useState<ApiError | null>(null);
  const [startError, setStartError] = useState<ApiError | null>(null);
  const [collections, setCollections] = useState<CollectionSummary[] | null>(null);
  const [collectionsError, setCollectionsError] = useState<ApiError | null>(null);
  const [form, setForm] = useState<SearchForm>(DEFAULT_FORM);
  const [search, setSearch] = useState<SearchState>({ status: 'idle' });
  const route = useRoute();
  const keyRef = useRef(key);
  keyRef.current = key;

  const forget = (why: ApiError | null) => {
    storeKey(null);
    setKey(null);
    setSession(null);
    setCollections(null);
    setSearch({ status: 'idle' });
    setKeyError(why);
  };

  // A key refused later (revoked meanwhile): back to the key form, with the server's reason.
  useEffect(() => onUnauthorized((e) => keyRef.current !== null && forget(e)), []);

  useEffect(() => {
    if (!key) return;
    let live = true;
    if (!session) {
      api<Session>(key, 'GET', '/session').then(
        (s) => live && setSession(s),
        (e: ApiError) => live && e.status !== 401 && setStartError(e),
      );
    }
    api<{ collections: CollectionSummary[] }>(key, 'GET', '/collections').then(
      (c) => {
        if (!live) return;
        setCollections(c.collections);
        setCollectionsError(null);
      },
      (e: ApiError) => live && setCollectionsError(e),
    );
    return () => {
      live = false;
    };
  }, [key]);

  if (!key) {
    return (
      <KeyForm
        initialError={keyError}
        onKey={(k, s) => {
          storeKey(k);
          setKeyError(null);
          setSession(s);
          setKey(k);
        }}
      />
    );
  }
  if (!session) {
    return (
      <main id="main" class="keyform-page">
        <p role="status">{startError ? '' : 'Checking the API key…'}</p>
        <ErrorBox error={startError} />
      </main>
    );
  }

  const current = route.view === 'collection' ? route.name : form.collection || collections?.[0]?.name;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          quarry
        </a>
        <nav aria-label="Views">
          <a href="#/" aria-current={route.view === 'search' ? 'page' : undefined}>
            Search
          </a>
          {current ? (
            <a href={hrefOf({ view: 'collection', name: current })} aria-current={route.view === 'collection' ? 'page' : undefined}>
              Collection
            </a>
          ) : null}
        </nav>
        <div class="who">
          <span title={`collections: ${session.collections.join(', ')}`}>
            key <code>{session.keyId}</code> · <span data-scope={session.scope}>{session.scope}</span>
          </span>
          <button type="button" class="link" onClick={() => forget(null)}>
            Forget key
          </button>
        </div>
      </header>
      {route.view === 'collection' ? (
        <CollectionView key={route.name} apiKey={key} name={route.name} session={session} />
      ) : collections === null && !collectionsError ? (
        <main id="main">
          <p class="status" role="status">
            Loading the collections…
          </p>
        </main>
      ) : (
        <SearchView apiKey={key} collections={collections} collectionsError={collectionsError} form={form} setForm={setForm} state={search} setState={setSearch} />
      )}
    </>
  );
}
