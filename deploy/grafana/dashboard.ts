/**
 * The quarry Grafana dashboard, written against Grafana's published schema types
 * (@grafana/schema's Dashboard), so a field Grafana does not know or a wrong enum value fails
 * to compile. `node dist/deploy/grafana/write-dashboard.js` writes it to quarry.json;
 * tests/grafana-dashboard.test.ts checks the committed file is this object and runs every
 * panel's query against a real Prometheus scraping a real `quarry serve`.
 *
 * Metric names are those src/observe/metrics.ts exports (docs/observability.md). Panels per
 * collection filter on `collection=~"$collection"`; embedding and HTTP metrics have no
 * collection label and say "all collections".
 */
import {
  DashboardCursorSync,
  FieldColorModeId,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataSourceRef,
  type Panel,
  type RowPanel,
} from '@grafana/schema';

const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
const C = 'collection=~"$collection"';
const W = '$__rate_interval';

interface Query {
  expr: string;
  legend: string;
}

let nextId = 1;
let y = 0;
const panels: Array<Panel | RowPanel> = [];

function row(title: string): void {
  panels.push({ type: 'row', title, id: nextId++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
  y += 1;
}

let x = 0;
/** A panel placed left to right, rows of 24 columns. */
function panel(
  type: 'timeseries' | 'stat' | 'heatmap',
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  opts: { w?: number; min?: number; max?: number; heatmap?: boolean; thresholds?: Array<{ value: number | null; color: string }> } = {},
): void {
  const w = opts.w ?? 8;
  if (x + w > 24) {
    x = 0;
    y += 8;
  }
  panels.push({
    type,
    id: nextId++,
    title,
    description,
    datasource: DS,
    gridPos: { h: 8, w, x, y },
    fieldConfig: {
      defaults: {
        unit,
        ...(opts.min !== undefined ? { min: opts.min } : {}),
        ...(opts.max !== undefined ? { max: opts.max } : {}),
        color: { mode: type === 'heatmap' ? FieldColorModeId.Thresholds : FieldColorModeId.PaletteClassic },
        thresholds: { mode: ThresholdsMode.Absolute, steps: opts.thresholds ?? [{ value: null, color: 'green' }] },
      },
      overrides: [],
    },
    options: type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, textMode: 'value_and_name' } : type === 'heatmap' ? { calculate: false, yAxis: { unit } } : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: q.expr,
      legendFormat: q.legend,
      ...(opts.heatmap ? { format: 'heatmap' } : {}),
    })),
  });
  x += w;
}

function endRow(): void {
  x = 0;
  y += 8;
}

const quantiles = (metric: string, by: string, filter: string, qs: number[], legend: (q: number) => string): Query[] =>
  qs.map((q) => ({ expr: `histogram_quantile(${q}, sum by (${['le', by].filter(Boolean).join(', ')}) (rate(${metric}_bucket${filter ? `{${filter}}` : ''}[${W}])))`, legend: legend(q) }));

row('Search latency');
panel('timeseries', 'Search latency p50 / p95 / p99', 'Whole searches (every stage, the cutoff and the page cut) of the selected collections, all modes together.', 's', quantiles('quarry_search_duration_seconds', '', C, [0.5, 0.95, 0.99], (q) => `p${Math.round(q * 100)}`));
panel('timeseries', 'Search latency p95 by mode', 'vector, bm25 or hybrid. The QuarrySearchLatencyHigh alert fires on this over 5 minutes.', 's', quantiles('quarry_search_duration_seconds', 'mode', C, [0.95], () => '{{mode}}'));
panel('timeseries', 'Searches per second by mode', 'Searches answered (not evaluation queries, which are kept out of these metrics).', 'reqps', [{ expr: `sum by (mode) (rate(quarry_search_duration_seconds_count{${C}}[${W}]))`, legend: '{{mode}}' }]);
panel('timeseries', 'Stage latency p95 by stage and mode', 'Where a search spends its time: embed (the query through the model), ann (vector index), bm25, fuse, rerank (tier 2).', 's', quantiles('quarry_search_stage_duration_seconds', 'stage, mode', C, [0.95], () => '{{stage}} ({{mode}})'), { w: 12 });
panel('timeseries', 'Stage latency p50 by stage', 'The median of each stage, all modes together.', 's', quantiles('quarry_search_stage_duration_seconds', 'stage', C, [0.5], () => '{{stage}}'), { w: 12 });
endRow();

row('Embedding and ingest');
panel('timeseries', 'Embedding call latency p50 / p95 (all collections)', 'One call of the model: a query (kind=query) or a batch of chunks (kind=documents, ingest and tier 2).', 's', [
  ...quantiles('quarry_embed_duration_seconds', 'kind', '', [0.5], () => 'p50 {{kind}}'),
  ...quantiles('quarry_embed_duration_seconds', 'kind', '', [0.95], () => 'p95 {{kind}}'),
]);
panel('timeseries', 'Embedding throughput (all collections)', 'Texts the model embedded per second, by model and kind.', 'ops', [{ expr: `sum by (model, kind) (rate(quarry_embed_texts_total[${W}]))`, legend: '{{model}} {{kind}}' }]);
panel('timeseries', 'Ingest rate', 'Documents ingest runs handled per second (added, updated, or unchanged and skipped), and chunks written per second.', 'ops', [
  { expr: `sum by (change) (rate(quarry_ingest_documents_total{${C}}[${W}]))`, legend: 'documents {{change}}' },
  { expr: `sum(rate(quarry_ingest_chunks_total{${C}}[${W}]))`, legend: 'chunks written' },
]);
endRow();

row('Result quality');
panel('timeseries', 'Top-1 similarity (drift): p10 / median / p90', "Cosine of the best vector hit of every vector or hybrid search. A shift in this band means the queries or the model's output changed (the seeds' 'similarity distribution should be stable').", 'none', quantiles('quarry_search_top1_similarity', '', C, [0.1, 0.5, 0.9], (q) => (q === 0.5 ? 'median' : `p${Math.round(q * 100)}`)), { min: -1, max: 1 });
panel('heatmap', 'Top-1 similarity distribution over time', 'The same cosine as a heatmap of its buckets (0.05 wide).', 'none', [{ expr: `sum by (le) (increase(quarry_search_top1_similarity_bucket{${C}}[${W}]))`, legend: '{{le}}' }], { heatmap: true });
panel('timeseries', 'Empty-result rate', 'Share of searches that returned nothing after the similarity cutoff and the page cut (QuarryEmptyResultsHigh alerts on it).', 'percentunit', [{ expr: `sum(rate(quarry_search_results_bucket{${C}, le="0"}[${W}])) / sum(rate(quarry_search_results_count{${C}}[${W}]))`, legend: 'no results' }], { min: 0, max: 1 });
panel('timeseries', 'nDCG@10 against the recorded baseline', 'The last evaluation run (POST /collections/{name}/evaluations) and the baseline it is compared with.', 'percentunit', [
  { expr: `quarry_eval_ndcg_at_10{${C}}`, legend: 'nDCG@10 {{collection}}' },
  { expr: `quarry_eval_ndcg_at_10_baseline{${C}}`, legend: 'baseline {{collection}}' },
], { min: 0, max: 1, w: 12 });
panel('timeseries', 'Recall@100 against the recorded baseline', 'The last evaluation run and the baseline it is compared with.', 'percentunit', [
  { expr: `quarry_eval_recall_at_100{${C}}`, legend: 'Recall@100 {{collection}}' },
  { expr: `quarry_eval_recall_at_100_baseline{${C}}`, legend: 'baseline {{collection}}' },
], { min: 0, max: 1, w: 12 });
endRow();

row('Index size and memory');
panel('timeseries', 'Index size on disk', "Bytes of each collection's folder.", 'bytes', [{ expr: `quarry_index_disk_bytes{${C}}`, legend: '{{collection}}' }]);
panel('timeseries', 'Index memory', "Bytes each collection's loaded indexes take, and the server process's resident memory.", 'bytes', [
  { expr: `quarry_index_memory_bytes{${C}}`, legend: '{{collection}} indexes' },
  { expr: 'sum(process_resident_memory_bytes and on (instance, job) group by (instance, job) (quarry_documents))', legend: 'server process resident' },
]);
panel('stat', 'Documents, chunks and vectors', 'What each collection holds now.', 'short', [
  { expr: `sum(quarry_documents{${C}})`, legend: 'documents' },
  { expr: `sum(quarry_chunks{${C}})`, legend: 'chunks' },
  { expr: `sum(quarry_vectors{${C}})`, legend: 'vectors' },
]);
endRow();

row('Model upgrade canary');
panel('timeseries', 'Canary top-10 overlap: p10 / median', "Share of live's top-10 documents the shadow generation's top 10 also holds, per canary search (quarry serve --canary).", 'percentunit', quantiles('quarry_canary_overlap_at_10', '', C, [0.1, 0.5], (q) => (q === 0.5 ? 'median' : 'p10')), { min: 0, max: 1 });
panel('timeseries', 'Canary top-1 score shift: p10 / median / p90', "Shadow's top score minus live's. Another model has another score scale: watch the spread more than the level.", 'none', quantiles('quarry_canary_top1_score_shift', '', C, [0.1, 0.5, 0.9], (q) => (q === 0.5 ? 'median' : `p${Math.round(q * 100)}`)));
panel('timeseries', 'Canary comparisons per second', 'Searches the shadow also answered, by outcome (compared or failed).', 'ops', [{ expr: `sum by (outcome) (rate(quarry_canary_queries_total{${C}}[${W}]))`, legend: '{{outcome}}' }]);
endRow();

row('HTTP');
panel('timeseries', 'HTTP requests by status (all collections)', 'Requests answered per second by status code: 4xx are clients (bad input, keys), 5xx the server.', 'reqps', [{ expr: `sum by (status) (rate(quarry_http_requests_total[${W}]))`, legend: '{{status}}' }]);
panel('timeseries', 'HTTP 5xx ratio (all collections)', 'Share of requests answered with a server error.', 'percentunit', [{ expr: `(sum(rate(quarry_http_requests_total{status=~"5.."}[${W}])) or vector(0)) / sum(rate(quarry_http_requests_total[${W}]))`, legend: '5xx' }], {
  min: 0,
  thresholds: [{ value: null, color: 'green' }, { value: 0.01, color: 'red' }],
});
panel('timeseries', 'HTTP latency p95 by route (all collections)', 'Time to answer, by route template.', 's', quantiles('quarry_http_request_duration_seconds', 'route', '', [0.95], () => '{{route}}'));
endRow();

row('Admission control (all collections)');
panel('timeseries', 'Searches admitted and shed per second', 'What admission control did with each search: admitted (ran, perhaps after a wait), shed (refused at once with 429 and Retry-After), abandoned (the client left while waiting). Sustained shedding means more replicas or cores.', 'reqps', [
  { expr: `sum by (outcome) (rate(quarry_search_admissions_total[${W}]))`, legend: '{{outcome}}' },
]);
panel('timeseries', 'Search queue wait p50 / p95 / p99', "Time a search waited for its turn before it ran; it is part of the latency clients see (tookMs), not of the per-stage times.", 's', quantiles('quarry_search_queue_wait_seconds', '', '', [0.5, 0.95, 0.99], (q) => `p${Math.round(q * 100)}`));
endRow();

export const dashboard: Dashboard = {
  uid: 'quarry-overview',
  title: 'quarry',
  description: 'Search latency, embedding and ingest, result quality and drift, evaluation against baseline, index size, the model-upgrade canary and HTTP, per collection.',
  tags: ['quarry', 'search'],
  schemaVersion: 39,
  version: 1,
  editable: true,
  graphTooltip: DashboardCursorSync.Crosshair,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  timezone: 'browser',
  templating: {
    list: [
      { type: 'datasource', name: 'datasource', label: 'Prometheus', query: 'prometheus', hide: VariableHide.dontHide },
      {
        type: 'query',
        name: 'collection',
        label: 'Collection',
        datasource: DS,
        query: { query: 'label_values(quarry_documents, collection)', refId: 'collections' },
        refresh: VariableRefresh.onTimeRangeChanged,
        sort: VariableSort.alphabeticalAsc,
        includeAll: true,
        multi: true,
        allValue: '.*',
        hide: VariableHide.dontHide,
      },
    ],
  },
  annotations: { list: [] },
  panels,
};
