import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { path } from '../api.js';
import { bytes, count, ms, plural, score, when } from '../format.js';
import type { CollectionInfo, EvalHistory, LatencyStats, Session, VersionInfo } from '../types.js';
import { useApi } from '../use-api.js';
import { ErrorBox } from './ErrorBox.js';
import { EvalHistoryChart, EvalHistoryTable, LatestEval } from './EvalCharts.js';
import { GenerationsPanel } from './GenerationsPanel.js';
import { RollbackDialog } from './RollbackDialog.js';

const LATENCY_REFRESH_MS = 5000;

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="kv">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function params(p: Record<string, number | string> | undefined): string {
  const entries = Object.entries(p ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : 'defaults';
}

function FingerprintStatus({ info }: { info: CollectionInfo }) {
  const probes = `${info.fingerprint.probes} probes (${info.fingerprint.probeSet})`;
  if (info.state === 'ready') return <span class="ok">✓ verified: the served model reproduces the stored fingerprint, {probes}</span>;
  if (info.state === 'loading') return <span>checking the model against its fingerprint…</span>;
  return (
    <span class="bad">
      ✗ {info.state}: {info.error?.message ?? 'the collection does not serve'}
    </span>
  );
}

function Overview({ info }: { info: CollectionInfo }) {
  const m = info.model;
  const recall = info.ann.recallAt10;
  return (
    <section class="card" aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <dl class="kvs" data-section="overview">
        <Row label="Documents">{count(info.documents)}</Row>
        <Row label="Chunks">
          {count(info.chunks)} ({info.chunking.chunkTokens} tokens, {info.chunking.overlapTokens} overlap)
        </Row>
        <Row label="Version">{info.version}</Row>
        <Row label="State">{info.state}</Row>
        <Row label="Model">
          <span data-field="model">
            {m.id}:{m.variant}@{m.revision.slice(0, 12)}
          </span>{' '}
          <span class="muted">
            ({m.dims} dims, {m.pooling} pooling, weights sha256 {m.weightsSha256.slice(0, 12)})
          </span>
        </Row>
        <Row label="Fingerprint">
          <span data-field="fingerprint">
            <FingerprintStatus info={info} />
          </span>
        </Row>
        <Row label="Index">
          <span data-field="index">
            {info.ann.type} ({params(info.ann.params)})
          </span>
          {info.ann.fallback ? <span class="muted"> · {info.ann.fallback}</span> : null}
        </Row>
        <Row label="Recall@10">
          {recall === null ? '—' : score(recall)} <span class="muted">(floor {info.ann.recallFloor}, {plural(info.ann.recallQueries, 'query', 'queries')})</span>
        </Row>
        <Row label="BM25">{info.lexical ? `${count(info.lexical.terms)} terms` : 'built on first search'}</Row>
        <Row label="On disk">
          <span data-field="disk">{bytes(info.disk.totalBytes)}</span>{' '}
          <span class="muted">
            (vectors {bytes(info.disk.vectorBytes)}, metadata {bytes(info.disk.metadataBytes)})
          </span>
        </Row>
        <Row label="In memory">
          <span data-field="memory">{info.memory?.bytes === null || info.memory === undefined ? 'not loaded' : bytes(info.memory.bytes)}</span>{' '}
          <span class="muted">(indexes of the served version, estimated)</span>
        </Row>
        <Row label="Created">{when(info.createdAt)}</Row>
      </dl>
    </section>
  );
}

function Versions(props: { apiKey: string; name: string; admin: boolean; onChanged: () => void; generation: number }) {
  const { apiKey, name, admin } = props;
  const list = useApi<{ versions: VersionInfo[] }>(apiKey, `${path.collection(name)}/versions`);
  const first = useRef(true);
  // another generation went live: its versions are another list
  useEffect(() => {
    if (first.current) first.current = false;
    else list.reload();
  }, [props.generation]);
  const [confirming, setConfirming] = useState<VersionInfo | null>(null);
  const [done, setDone] = useState<string>('');
  const opener = useRef<HTMLButtonElement | null>(null);
  const versions = list.data?.versions ?? [];

  return (
    <section class="card" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <p class="status" role="status" aria-live="polite">
        {done}
      </p>
      <ErrorBox error={list.error} />
      <div class="table-scroll">
        <table class="data versions">
          <caption class="sr-only">Every kept version, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Created</th>
              <th scope="col">Kind</th>
              <th scope="col">Documents</th>
              <th scope="col">Chunks</th>
              <th scope="col">Model</th>
              {admin ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {[...versions].reverse().map((v) => (
              <tr key={v.version} class={v.current ? 'current' : undefined} data-version={v.version}>
                <th scope="row">
                  {v.version}
                  {v.current ? <span class="badge">current</span> : null}
                </th>
                <td>{when(v.createdAt)}</td>
                <td>
                  {v.kind}
                  {v.note ? <span class="muted"> · {v.note}</span> : null}
                </td>
                <td class="num">{count(v.documents)}</td>
                <td class="num">{count(v.chunks)}</td>
                <td class="wrap">{v.model}</td>
                {admin ? (
                  <td>
                    {v.current ? null : (
                      <button
                        type="button"
                        class="rollback"
                        onClick={(e) => {
                          opener.current = e.currentTarget;
                          setConfirming(v);
                        }}
                      >
                        Roll back to {v.version}
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {confirming ? (
        <RollbackDialog
          apiKey={apiKey}
          collection={name}
          version={confirming}
          onClose={() => {
            setConfirming(null);
            opener.current?.focus();
          }}
          onDone={(created) => {
            setConfirming(null);
            setDone(`Rolled back: version ${created.version} now serves the documents of version ${confirming.version}.`);
            list.reload();
            props.onChanged();
          }}
        />
      ) : null}
    </section>
  );
}

function Evaluations({ apiKey, name }: { apiKey: string; name: string }) {
  const h = useApi<EvalHistory>(apiKey, `${path.collection(name)}/evaluations/history`);
  const history = h.data?.evaluations ?? [];
  return (
    <section class="card" aria-labelledby="eval-title">
      <h2 id="eval-title">Evaluation</h2>
      <ErrorBox error={h.error} />
      {h.data && history.length === 0 ? (
        <p class="empty">
          No evaluation has run on this collection through this server yet. An admin starts one with <code>POST {path.collection(name)}/evaluations</code>{' '}
          (docs/server.md); each finished run is kept here.
        </p>
      ) : null}
      {history.length > 0 ? (
        <>
          <LatestEval history={history} />
          <h3>Over time</h3>
          <p class="legend-note muted">Solid: nDCG@10, dashed: Recall@100.</p>
          <EvalHistoryChart history={history} />
          <details>
            <summary>Every run ({history.length})</summary>
            <EvalHistoryTable history={history} />
          </details>
          {h.data!.skipped > 0 ? <p class="note">{plural(h.data!.skipped, 'damaged history line')} skipped.</p> : null}
        </>
      ) : null}
    </section>
  );
}

function Latency({ apiKey, name }: { apiKey: string; name: string }) {
  const s = useApi<LatencyStats>(apiKey, `${path.collection(name)}/stats`, LATENCY_REFRESH_MS);
  const d = s.data;
  const rows = d ? [['all modes', d.overall] as const, ...Object.entries(d.modes)] : [];
  return (
    <section class="card" aria-labelledby="latency-title">
      <h2 id="latency-title">Search latency</h2>
      <ErrorBox error={s.error} />
      {d ? (
        <>
          <p class="muted">
            This server, the last {count(d.window.maxSamples)} searches within {Math.round(d.window.maxAgeSeconds / 60)} minutes; {plural(d.searches.total, 'search', 'searches')} since it
            started. Refreshed every {LATENCY_REFRESH_MS / 1000} s.
          </p>
          <div class="table-scroll">
            <table class="data latency">
              <thead>
                <tr>
                  <th scope="col">Mode</th>
                  <th scope="col">Searches</th>
                  <th scope="col">p50</th>
                  <th scope="col">p95</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([mode, l]) => (
                  <tr key={mode} data-mode={mode}>
                    <th scope="row">{mode}</th>
                    <td class="num">{count(l.count)}</td>
                    <td class="num">{ms(l.p50)}</td>
                    <td class="num">{ms(l.p95)}</td>
                    <td class="num">{ms(l.p99)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

export function CollectionView({ apiKey, name, session }: { apiKey: string; name: string; session: Session }) {
  const info = useApi<CollectionInfo>(apiKey, path.collection(name));
  const admin = session.scope === 'admin';
  const heading = useRef<HTMLHeadingElement>(null);
  const [switches, setSwitches] = useState(0);
  useEffect(() => heading.current?.focus(), [name]);
  return (
    <main id="main" class="collection-view">
      <h1 ref={heading} tabIndex={-1}>
        Collection <span class="name">{name}</span>
      </h1>
      <ErrorBox error={info.error} />
      {info.data ? <Overview info={info.data} /> : info.loading ? <section class="card skeleton tall" aria-busy="true" aria-label="Loading the collection" /> : null}
      {info.error?.status === 404 ? null : (
        <div class="grid">
          <Versions apiKey={apiKey} name={name} admin={admin} onChanged={info.reload} generation={switches} />
          <GenerationsPanel
            apiKey={apiKey}
            name={name}
            admin={admin}
            onChanged={() => {
              info.reload();
              setSwitches((n) => n + 1);
            }}
          />
          <Latency apiKey={apiKey} name={name} />
          <Evaluations apiKey={apiKey} name={name} />
        </div>
      )}
    </main>
  );
}
