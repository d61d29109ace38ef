import { useRef } from 'preact/hooks';
import { api, ApiError, path } from '../api.js';
import { plural } from '../format.js';
import { hrefOf } from '../router.js';
import { MODES, type CollectionSummary, type Mode, type SearchRequest, type SearchResponse } from '../types.js';
import { Compare } from './Compare.js';
import { ErrorBox } from './ErrorBox.js';
import { ResultCard } from './ResultCard.js';
import { scaleOf } from './ScoreBars.js';

export interface SearchForm {
  query: string;
  collection: string;
  mode: Mode;
  rerank: boolean;
  k: number;
  /** The minScore field as typed ('' for none). */
  cutoff: string;
  compare: boolean;
  compareMode: Mode;
}

export interface SearchState {
  status: 'idle' | 'loading' | 'done' | 'error';
  /** The form as it was when the shown results were searched. */
  searched?: SearchForm;
  primary?: SearchResponse;
  secondary?: SearchResponse;
  error?: ApiError;
  /** Searches finished (answered or failed): a change tells a watcher (a test, say) that the results are final. */
  seq?: number;
}

export const DEFAULT_FORM: SearchForm = { query: '', collection: '', mode: 'hybrid', rerank: false, k: 10, cutoff: '', compare: false, compareMode: 'vector' };
const COMPARE_K = 10;
const MODE_HELP: Record<Mode, string> = {
  vector: 'meaning: cosine of embeddings',
  bm25: 'exact words: BM25',
  hybrid: 'both, fused',
};

function cutoffOf(f: SearchForm): number | undefined | ApiError {
  if (f.cutoff.trim() === '') return undefined;
  const x = Number(f.cutoff);
  return Number.isFinite(x) ? x : new ApiError(0, 'INVALID_INPUT', 'the cutoff must be a number (or empty for none)', 'minScore');
}

/** What the cutoff compares: the cosine in every mode, the tier-2 score with rerank (the API's minScore). */
function cutoffOn(rerank: boolean): string {
  return rerank ? "the tier-2 model's score" : 'cosine similarity';
}

/** bm25 alone computes no cosine, so the API refuses a cutoff there; the page does not offer one. */
function cutoffApplies(f: SearchForm): boolean {
  return f.mode !== 'bm25' || f.rerank;
}

function EmptyMessage({ form }: { form: SearchForm }) {
  const cutoff = cutoffApplies(form) ? cutoffOf(form) : undefined;
  return (
    <p class="empty card" data-empty="true">
      {typeof cutoff === 'number'
        ? `No results: nothing scored at or above the cutoff of ${cutoff} (${cutoffOn(form.rerank)}). Lower or clear the cutoff to see the closest matches.`
        : 'No results for this query in this collection.'}
    </p>
  );
}

function Skeleton() {
  return (
    <ol class="results" aria-hidden="true">
      {[0, 1, 2].map((i) => (
        <li key={i} class="result card skeleton" />
      ))}
    </ol>
  );
}

export function SearchView(props: {
  apiKey: string;
  collections: CollectionSummary[] | null;
  collectionsError: ApiError | null;
  form: SearchForm;
  setForm: (f: SearchForm) => void;
  state: SearchState;
  setState: (s: SearchState | ((s: SearchState) => SearchState)) => void;
}) {
  const { apiKey, collections, form, setForm, state, setState } = props;
  const inflight = useRef<AbortController | null>(null);
  const collection = form.collection || collections?.[0]?.name || '';

  const run = async (f: SearchForm) => {
    const target = f.collection || collection;
    const cutoff = cutoffApplies(f) ? cutoffOf(f) : undefined;
    let problem: ApiError | null = null;
    if (!f.query.trim()) problem = new ApiError(0, 'INVALID_INPUT', 'type a query first', 'query');
    else if (!target) problem = new ApiError(0, 'NO_COLLECTION', 'this key may use no collection yet: create one with `quarry index` or POST /collections');
    else if (cutoff instanceof ApiError) problem = cutoff;
    if (problem) {
      setState((s) => ({ ...s, status: 'error', error: problem, seq: (s.seq ?? 0) + 1 }));
      return;
    }
    inflight.current?.abort();
    const ctl = new AbortController();
    inflight.current = ctl;
    setState((s) => ({ ...s, status: 'loading', error: undefined }));
    const body = (mode: Mode, k: number): SearchRequest => ({
      query: f.query,
      mode,
      k,
      highlight: true,
      ...(f.rerank ? { rerank: true } : {}),
      ...(typeof cutoff === 'number' ? { minScore: cutoff } : {}),
    });
    const url = `${path.collection(target)}/search`;
    try {
      const [primary, secondary] = await Promise.all([
        api<SearchResponse>(apiKey, 'POST', url, body(f.mode, f.compare ? COMPARE_K : f.k), ctl.signal),
        f.compare ? api<SearchResponse>(apiKey, 'POST', url, body(f.compareMode, COMPARE_K), ctl.signal) : Promise.resolve(undefined),
      ]);
      if (ctl.signal.aborted) return;
      setState((s) => ({ status: 'done', searched: { ...f, collection: target }, primary, secondary, seq: (s.seq ?? 0) + 1 }));
    } catch (e) {
      if ((e as Error).name === 'AbortError' || ctl.signal.aborted) return;
      setState((s) => ({ ...s, status: 'error', error: e as ApiError, seq: (s.seq ?? 0) + 1 }));
    } finally {
      if (inflight.current === ctl) inflight.current = null;
    }
  };

  /** Changes the form; a change of mode, rerank, comparison or collection searches again at once. */
  const update = (patch: Partial<SearchForm>, rerun = false) => {
    const f = { ...form, collection, ...patch };
    setForm(f);
    if (rerun && state.searched && f.query.trim()) void run(f);
  };

  const loading = state.status === 'loading';
  const shown = state.primary;
  const searched = state.searched;
  const scale = shown ? scaleOf(shown.results) : null;
  let status = 'Type a query and press Enter to search.';
  if (loading) status = 'Searching…';
  else if (state.status === 'error') status = 'The search failed; see the error below.';
  else if (shown && searched) {
    if (state.secondary) status = `Compared ${shown.mode}${searched.rerank ? ' + rerank' : ''} (${plural(shown.results.length, 'result')}) with ${state.secondary.mode} (${plural(state.secondary.results.length, 'result')}).`;
    else if (shown.results.length === 0) status = cutoffApplies(searched) && typeof cutoffOf(searched) === 'number' ? 'No results above the cutoff.' : 'No results.';
    else status = `${plural(shown.results.length, shown.unit === 'chunk' ? 'result' : 'document')} in ${shown.tookMs} ms (${shown.mode}${shown.reranker ? ' + rerank' : ''}).`;
  }

  return (
    <main id="main" class="search-view">
      <h1 class="sr-only">Search</h1>
      <form
        class="search-form card"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void run({ ...form, collection });
        }}
      >
        <div class="query-row">
          <label for="query" class="sr-only">
            Query
          </label>
          <input
            id="query"
            type="search"
            name="query"
            placeholder="Ask a question or type words to find"
            autoComplete="off"
            autoFocus
            value={form.query}
            aria-invalid={state.error?.field === 'query' ? true : undefined}
            onInput={(e) => setForm({ ...form, collection, query: e.currentTarget.value })}
          />
          <button type="submit" class="primary" disabled={loading} aria-busy={loading}>
            {loading ? 'Searching…' : 'Search'}
          </button>
        </div>
        <div class="controls">
          <div class="control">
            <span class="label-row">
              <label for="collection">Collection</label>
              {collection ? (
                <a href={hrefOf({ view: 'collection', name: collection })} aria-label={`Details of collection ${collection}`}>
                  details
                </a>
              ) : null}
            </span>
            <select id="collection" value={collection} onChange={(e) => update({ collection: e.currentTarget.value }, true)} disabled={!collections?.length}>
              {(collections ?? []).map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name} ({c.state === 'ready' ? plural(c.documents ?? 0, 'document') : c.state})
                </option>
              ))}
            </select>
          </div>
          <fieldset class="control modes">
            <legend>Mode</legend>
            <div class="segmented">
              {MODES.map((m) => (
                <label key={m} title={MODE_HELP[m]}>
                  <input type="radio" name="mode" value={m} checked={form.mode === m} onChange={() => update({ mode: m }, true)} />
                  <span>{m === 'bm25' ? 'BM25' : m}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div class="control check">
            <input id="rerank" type="checkbox" checked={form.rerank} onChange={(e) => update({ rerank: e.currentTarget.checked }, true)} />
            <label for="rerank">Rerank (tier 2)</label>
          </div>
          <div class="control">
            <label for="k">Results (k)</label>
            <input id="k" type="number" min={1} max={100} step={1} value={form.k} disabled={form.compare} onInput={(e) => setForm({ ...form, collection, k: Math.max(1, Math.min(100, Number(e.currentTarget.value) || 10)) })} />
          </div>
          <div class="control">
            <label for="cutoff">Cutoff (min cosine)</label>
            <input
              id="cutoff"
              type="text"
              inputMode="decimal"
              placeholder={cutoffApplies(form) ? 'none' : 'n/a in BM25'}
              disabled={!cutoffApplies(form)}
              value={form.cutoff}
              aria-describedby="cutoff-help"
              aria-invalid={state.error?.field === 'minScore' ? true : undefined}
              onInput={(e) => setForm({ ...form, collection, cutoff: e.currentTarget.value })}
            />
            <span id="cutoff-help" class="sr-only">
              Passages whose cosine similarity to the query (with rerank: tier-2 score) is below this are dropped, in every mode; the answer may be empty. BM25 alone computes no cosine, so it takes no cutoff.
            </span>
          </div>
          <div class="control check">
            <input id="compare" type="checkbox" checked={form.compare} onChange={(e) => update({ compare: e.currentTarget.checked }, true)} />
            <label for="compare">Side by side with</label>
            <label for="compare-mode" class="sr-only">
              Mode to compare with
            </label>
            <select id="compare-mode" value={form.compareMode} onChange={(e) => update({ compareMode: e.currentTarget.value as Mode }, form.compare)}>
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m === 'bm25' ? 'BM25' : m}
                </option>
              ))}
            </select>
          </div>
        </div>
      </form>
      <ErrorBox error={props.collectionsError} />
      <p class="status" role="status" aria-live="polite" id="search-status">
        {status}
      </p>
      {state.status === 'error' ? <ErrorBox error={state.error ?? null} id="search-error" /> : null}
      {shown?.queryTruncated ? <p class="note">The query was longer than the model reads; only its beginning was used for the vector search.</p> : null}
      <div class={`results-area${loading ? ' loading' : ''}`} aria-busy={loading} aria-describedby="search-status" data-searches={state.seq ?? 0}>
        {!shown && loading ? <Skeleton /> : null}
        {shown && searched && state.secondary ? <Compare a={shown} b={state.secondary} /> : null}
        {shown && searched && !state.secondary ? (
          shown.results.length === 0 ? (
            <EmptyMessage form={searched} />
          ) : (
            <ol class="results" aria-label={`Results for “${shown.query}”`}>
              {shown.results.map((r) => (
                <ResultCard key={r.docId + r.chunkId} r={r} scale={scale!} />
              ))}
            </ol>
          )
        ) : null}
      </div>
    </main>
  );
}
