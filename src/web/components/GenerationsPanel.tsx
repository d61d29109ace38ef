import { useEffect, useRef, useState } from 'preact/hooks';
import { api, path } from '../api.js';
import { count, ms, plural, score, when } from '../format.js';
import { MODES, type GateResult, type GenerationEntry, type Generations, type Mode, type ReindexJob, type SwitchReport } from '../types.js';
import { useApi } from '../use-api.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { ErrorBox } from './ErrorBox.js';

/** While a reindex job runs, its progress is fetched this often. */
const REINDEX_REFRESH_MS = 2000;
/** The server's default gate tolerance (src/api/generations.ts): half a point. */
const GATE_TOLERANCE = 0.005;

function Gate({ gate, label }: { gate: GateResult; label: string }) {
  const verdict = gate.passed ? 'passed' : gate.forced ? 'refused, promoted anyway (forced)' : 'refused';
  return (
    <div data-field="gate" data-verdict={gate.passed ? 'passed' : gate.forced ? 'forced' : 'refused'}>
      <p class="gate-line">
        <span class={gate.passed ? 'ok' : 'bad'}>{gate.passed ? '✓' : '✗'} {verdict}</span>{' '}
        <span class="muted">
          ({label}; {gate.mode} search, {plural(gate.queries, 'held-out query', 'held-out queries')}, tolerance {gate.tolerance}, {when(gate.at)})
        </span>
      </p>
      <div class="table-scroll">
        <table class="data gate">
          <caption class="sr-only">Live and shadow on the held-out queries</caption>
          <thead>
            <tr>
              <th scope="col">Generation</th>
              <th scope="col" class="num">nDCG@10</th>
              <th scope="col" class="num">Recall@100</th>
            </tr>
          </thead>
          <tbody>
            {(['live', 'shadow'] as const).map((role) => (
              <tr key={role} data-role={role}>
                <th scope="row">
                  {role}: generation {gate[role].generation}
                </th>
                <td class="num">{score(gate[role]['ndcg@10'])}</td>
                <td class="num">{score(gate[role]['recall@100'])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Job({ job }: { job: ReindexJob }) {
  if (job.status === 'running') {
    const p = job.progress;
    const pct = p && p.bytesTotal > 0 ? ` (${Math.round((p.bytesDone / p.bytesTotal) * 100)}% of the text)` : '';
    return (
      <span data-field="reindex" data-status="running">
        running since {when(job.startedAt)}
        {p ? `: ${plural(p.documents, 'document')}, ${plural(p.chunks, 'chunk')} so far${pct}` : ''}
      </span>
    );
  }
  if (job.status === 'failed') {
    return (
      <span data-field="reindex" data-status="failed" class="bad">
        failed {when(job.finishedAt)}: {job.error ? `${job.error.message} (${job.error.code})` : 'no reason given'}
      </span>
    );
  }
  const r = job.report;
  return (
    <span data-field="reindex" data-status="done">
      done {when(job.finishedAt)}
      {r
        ? `: generation ${r.generation}, ${plural(r.documents, 'document')}, ${plural(r.chunks, 'chunk')}, ${count(r.chunksEmbedded)} embedded (cache hit rate ${Math.round(r.cacheHitRate * 100)}%), ${ms(r.elapsedMs)}`
        : ''}
    </span>
  );
}

function build(g: GenerationEntry): string {
  const b = g.build;
  if (!b) return '—';
  return `${plural(b.documents, 'document')}, ${plural(b.chunks, 'chunk')}; ${count(b.chunksEmbedded)} embedded, ${count(b.cacheHits)} from cache; ${ms(b.elapsedMs)}`;
}

function indexText(g: GenerationEntry): string {
  const p = Object.entries(g.index.params ?? {});
  return p.length ? `${g.index.type} (${p.map(([k, v]) => `${k}=${v}`).join(', ')})` : g.index.type;
}

function GenerationsTable({ d }: { d: Generations }) {
  const order: Record<string, number> = { live: 0, shadow: 1, building: 2 };
  const rows = [...d.generations].sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || b.id - a.id);
  return (
    <div class="table-scroll">
      <table class="data generations">
        <caption class="sr-only">The collection's generations: live first, then the shadow, then those kept for rollback</caption>
        <thead>
          <tr>
            <th scope="col">Generation</th>
            <th scope="col">Model</th>
            <th scope="col">Chunking</th>
            <th scope="col">Index</th>
            <th scope="col">Created</th>
            <th scope="col">Promoted</th>
            <th scope="col">Build</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.id} data-generation={g.id} data-state={g.state} class={g.state === 'live' ? 'current' : undefined}>
              <th scope="row">
                {g.id} <span class={`badge state-${g.state}`}>{g.state}</span>
              </th>
              <td class="wrap">
                {g.model}
                {g.note ? <span class="muted"> · {g.note}</span> : null}
              </td>
              <td>
                {g.chunking.chunkTokens} tokens, {g.chunking.overlapTokens} overlap
              </td>
              <td>{indexText(g)}</td>
              <td>{when(g.createdAt)}</td>
              <td>
                {g.promotedAt ? when(g.promotedAt) : '—'}
                {g.retiredAt ? <span class="muted"> · retired {when(g.retiredAt)}</span> : null}
              </td>
              <td class="wrap">{build(g)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Confirming = { kind: 'promote'; shadow: GenerationEntry; mode: Mode } | { kind: 'rollback'; to: GenerationEntry };

/**
 * The collection's model generations (GET /collections/{name}/generations): live, shadow and
 * those kept for rollback, the shadow's last gate, the canary and the reindex job. Admin keys
 * also get "Promote shadow" (POST …/promote) and "Roll back to generation N"
 * (POST …/generations/rollback), each after a confirmation; the server checks the scope again.
 */
export function GenerationsPanel(props: { apiKey: string; name: string; admin: boolean; onChanged: () => void }) {
  const { apiKey, name, admin } = props;
  const url = `${path.collection(name)}/generations`;
  const [running, setRunning] = useState(false);
  const g = useApi<Generations>(apiKey, url, running ? REINDEX_REFRESH_MS : undefined);
  const d = g.data;
  const nowRunning = d?.reindex?.status === 'running';
  useEffect(() => setRunning(nowRunning), [nowRunning]);
  const [mode, setMode] = useState<Mode>('vector');
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [done, setDone] = useState('');
  const opener = useRef<HTMLButtonElement | null>(null);

  const byId = (id: number | null | undefined) => (id === null || id === undefined ? undefined : d?.generations.find((x) => x.id === id));
  const live = byId(d?.live);
  const shadow = byId(d?.shadow);
  const back = byId(d?.previous.at(-1));
  const single = d !== null && d.generations.length === 1 && d.shadow === null && d.previous.length === 0;
  const gate = shadow?.gate ? { gate: shadow.gate, label: `shadow generation ${shadow.id}` } : live?.gate ? { gate: live.gate, label: `when generation ${live.id} was promoted` } : null;

  const close = () => {
    setConfirming(null);
    opener.current?.focus();
  };
  const changed = (message: string) => {
    setConfirming(null);
    setDone(message);
    g.reload();
    props.onChanged();
    opener.current = null;
  };

  return (
    <section class="card generations-panel" aria-labelledby="generations-title">
      <h2 id="generations-title">Model generations</h2>
      <p class="status" role="status" aria-live="polite" id="generations-status">
        {done}
      </p>
      <ErrorBox error={g.error} />
      {!d && g.loading ? <div class="skeleton" aria-busy="true" aria-label="Loading the generations" /> : null}
      {d && single ? (
        <p class="empty" data-generations="single">
          Only generation 1 so far (live): this collection never had a second. Start one with <code>quarry reindex --collection {name} --model &lt;id&gt;</code>.
        </p>
      ) : null}
      {d && !single ? (
        <>
          <dl class="kvs" data-section="generations">
            <div class="kv">
              <dt>Live</dt>
              <dd data-field="live">
                generation {d.live}
                {live ? <span class="muted"> · {live.model}</span> : null}
              </dd>
            </div>
            <div class="kv">
              <dt>Shadow</dt>
              <dd data-field="shadow">
                {shadow ? (
                  <>
                    generation {shadow.id}
                    <span class="muted"> · {shadow.model}</span>
                  </>
                ) : (
                  'none'
                )}
              </dd>
            </div>
            <div class="kv">
              <dt>Rollback returns to</dt>
              <dd data-field="previous">{back ? `generation ${back.id}` : 'nothing: no earlier generation is kept'}</dd>
            </div>
            <div class="kv">
              <dt>Last gate</dt>
              <dd>{gate ? <Gate gate={gate.gate} label={gate.label} /> : shadow ? 'not judged yet' : '—'}</dd>
            </div>
            <div class="kv">
              <dt>Canary</dt>
              <dd data-field="canary">
                {d.canary
                  ? `${plural(d.canary.compared, 'search', 'searches')} compared with generation ${d.canary.shadow}${d.canary.failed ? ` (${count(d.canary.failed)} failed)` : ''}: mean overlap of the top 10 ${score(d.canary.meanOverlapAt10)}, mean top-1 score shift ${score(d.canary.meanTop1ScoreShift)}`
                  : shadow
                    ? 'no search compared with the shadow yet (a share of live searches is run on it too)'
                    : '—'}
              </dd>
            </div>
          </dl>
          <GenerationsTable d={d} />
        </>
      ) : null}
      {d?.reindex ? (
        <p class="job">
          <span class="muted">Reindex job: </span>
          <Job job={d.reindex} />
        </p>
      ) : null}
      {admin && d && (shadow || back) ? (
        <div class="gen-actions">
          {shadow ? (
            <div class="promote-row">
              <div class="control">
                <label for="gate-mode">Gate compares with</label>
                <select id="gate-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as Mode)}>
                  {MODES.map((m) => (
                    <option key={m} value={m}>
                      {m === 'bm25' ? 'BM25' : m} search
                    </option>
                  ))}
                </select>
              </div>
              <button
                type="button"
                class="primary"
                id="promote-shadow"
                onClick={(e) => {
                  opener.current = e.currentTarget;
                  setConfirming({ kind: 'promote', shadow, mode });
                }}
              >
                Promote shadow (generation {shadow.id})
              </button>
            </div>
          ) : null}
          {back ? (
            <button
              type="button"
              id="rollback-generation"
              onClick={(e) => {
                opener.current = e.currentTarget;
                setConfirming({ kind: 'rollback', to: back });
              }}
            >
              Roll back to generation {back.id}
            </button>
          ) : null}
        </div>
      ) : null}
      {confirming?.kind === 'promote' ? (
        <ConfirmDialog
          id="promote"
          title={`Promote generation ${confirming.shadow.id} of “${name}”?`}
          confirmLabel={`Promote generation ${confirming.shadow.id}`}
          busyLabel="Judging and promoting…"
          action={() => api<SwitchReport>(apiKey, 'POST', `${path.collection(name)}/promote`, { mode: confirming.mode })}
          onError={() => g.reload()}
          onClose={close}
          onDone={(r) =>
            changed(
              `Promoted: generation ${r.live} is live (${r.model})${r.gate ? `; the gate ${r.gate.passed ? 'passed' : 'refused and was forced'} with ${r.gate.mode} search` : ''}. Rollback returns to generation ${r.previous}.`,
            )
          }
        >
          <p>
            The shadow ({confirming.shadow.model}) and live generation {d?.live} are judged on the collection's held-out queries with {confirming.mode} search. The shadow becomes
            live only if its nDCG@10 and Recall@100 are each at most {GATE_TOLERANCE * 100} points below live's; otherwise nothing changes. Documents written meanwhile are carried
            over before the switch, and generation {d?.live} is kept for rollback.
          </p>
        </ConfirmDialog>
      ) : null}
      {confirming?.kind === 'rollback' ? (
        <ConfirmDialog
          id="rollback-gen"
          title={`Roll back “${name}” to generation ${confirming.to.id}?`}
          confirmLabel={`Roll back to generation ${confirming.to.id}`}
          busyLabel="Rolling back…"
          action={() => api<SwitchReport>(apiKey, 'POST', `${path.collection(name)}/generations/rollback`)}
          onError={() => g.reload()}
          onClose={close}
          onDone={(r) => changed(`Rolled back: generation ${r.live} is live again (${r.model}).`)}
        >
          <p>
            Generation {confirming.to.id} ({confirming.to.model}) becomes live again in one step, after taking over the documents written to generation {d?.live} meanwhile.
            Generation {d?.live} stops serving and is kept as retired.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
