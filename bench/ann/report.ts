/** Turns the results into the tables of BENCHMARKS.md and the verdict on each of the issue's targets. */
import type { AnnConfig, SearchPoint } from './configs.js';
import type { PointResult, SystemName, SystemResult } from './measure.js';
import { writeMarkedSection } from '../support.js';

export interface ConfigResults {
  config: AnnConfig;
  results: Partial<Record<SystemName, SystemResult>>;
}

export interface AnnReport {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  data: Record<string, unknown>;
  versions: Record<string, string>;
  configs: ConfigResults[];
  targets: TargetVerdict[];
}

export interface TargetVerdict {
  target: string;
  met: boolean | null;
  detail: string;
}

const SYSTEMS: Array<[SystemName, string]> = [
  ['quarry', 'quarry'],
  ['faiss', 'FAISS'],
  ['lancedb', 'LanceDB'],
  ['usearch', 'raw usearch'],
];
const RECALL_BAR = 0.95;
const MiB = 2 ** 20;

const samePoint = (a: SearchPoint, b: SearchPoint) => a.nprobe === b.nprobe && a.refine === b.refine && a.efSearch === b.efSearch;

function pointOf(r: SystemResult | undefined, p: SearchPoint): PointResult | undefined {
  return r?.available ? r.points.find((x) => samePoint(x.params, p)) : undefined;
}

const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1));
const mib = (x: number | undefined) => (x === undefined ? '–' : (x / MiB).toFixed(1));
const secs = (x: number | undefined) => (x === undefined ? '–' : (x / 1000).toFixed(1));

function cell(r: SystemResult | undefined, p: SearchPoint): string {
  if (!r) return '';
  if (!r.available) return 'n/a';
  const x = pointOf(r, p);
  return x ? `${x.recall.toFixed(3)} / ${ms(x.p50Ms)} / ${ms(x.p99Ms)}` : '';
}

export function searchTable(configs: ConfigResults[]): string {
  const lines = [
    '| Configuration | Search | ' + SYSTEMS.map(([, n]) => `${n}: recall@10 / p50 / p99 ms`).join(' | ') + ' |',
    '|---|---|' + SYSTEMS.map(() => '---:|').join(''),
  ];
  for (const { config, results } of configs) {
    for (const p of config.points) {
      const label = config.points.indexOf(p) === 0 ? config.label : '';
      const search = pointOf(Object.values(results).find((r) => r?.available), p)?.label ?? JSON.stringify(p);
      lines.push(`| ${label} | ${search} | ` + SYSTEMS.map(([s]) => cell(results[s], p)).join(' | ') + ' |');
    }
  }
  return lines.join('\n');
}

export function buildTable(configs: ConfigResults[]): string {
  const lines = [
    '| Configuration | System | Build s | Memory MiB | RSS Δ MiB | Disk MiB | Built / notes |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const { config, results } of configs) {
    for (const [s, name] of SYSTEMS) {
      const r = results[s];
      if (!r) continue;
      if (!r.available) {
        lines.push(`| ${config.label} | ${name} | – | – | – | – | n/a: ${escape(r.reason ?? '')} |`);
        continue;
      }
      const notes = [r.built ?? '', ...r.notes].filter(Boolean).map(escape).join('; ');
      lines.push(`| ${config.label} | ${name} | ${secs(r.buildMs)} | ${mib(r.memoryBytes)} | ${mib(r.rssDeltaBytes)} | ${mib(r.diskBytes)} | ${notes} |`);
    }
  }
  return lines.join('\n');
}

function escape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The first search point (cheapest, as listed) at which quarry reaches the recall bar. */
function operatingPoint(r: SystemResult | undefined): PointResult | undefined {
  return r?.available ? r.points.find((p) => p.recall >= RECALL_BAR) : undefined;
}

function latencyTarget(configs: ConfigResults[], kind: 'ivf', peer: SystemName, peerName: string, limit: number): TargetVerdict {
  const target = `quarry IVF within ${limit}x of ${peerName} latency at recall@10 ≥ ${RECALL_BAR} (same nprobe, separate processes)`;
  const parts: string[] = [];
  let met: boolean | null = null;
  for (const { config, results } of configs.filter((c) => c.config.kind === kind)) {
    const q = operatingPoint(results.quarry);
    if (!results.quarry?.available) {
      parts.push(`${config.id}: no quarry row (${results.quarry?.reason ?? 'not run'})`);
      continue;
    }
    if (!q) {
      parts.push(`${config.id}: quarry never reaches recall ${RECALL_BAR} (best ${Math.max(...results.quarry.points.map((p) => p.recall)).toFixed(3)})`);
      continue;
    }
    const p = pointOf(results[peer], q.params);
    if (!p) {
      parts.push(`${config.id}: no ${peerName} row`);
      continue;
    }
    const ratio = q.p50Ms / p.p50Ms;
    const ok = ratio <= limit;
    met = (met ?? true) && ok;
    parts.push(
      `${config.id} at ${q.label}: quarry ${ms(q.p50Ms)} ms p50 (recall ${q.recall.toFixed(3)}) vs ${peerName} ${ms(p.p50Ms)} ms (recall ${p.recall.toFixed(3)}) = ${ratio.toFixed(2)}x, p99 ${(q.p99Ms / p.p99Ms).toFixed(2)}x`,
    );
  }
  return { target, met, detail: parts.join('; ') };
}

/** quarry HNSW vs raw usearch on the same graph, interleaved (see quarry-runner's pairedWithRawUsearch). */
function hnswTarget(configs: ConfigResults[]): TargetVerdict {
  const target = `quarry HNSW within 1.2x of raw usearch latency at recall@10 ≥ ${RECALL_BAR} (same graph, queries interleaved in one process)`;
  const parts: string[] = [];
  let met: boolean | null = null;
  for (const { config, results } of configs.filter((c) => c.config.kind === 'hnsw')) {
    const paired = results.quarry?.available ? results.quarry.paired : undefined;
    if (!paired?.length) {
      parts.push(`${config.id}: no paired quarry/usearch measurement (${results.quarry?.reason ?? 'not run'})`);
      continue;
    }
    const at = paired.find((p) => p.quarry.recall >= RECALL_BAR);
    if (!at) {
      parts.push(`${config.id}: quarry never reaches recall ${RECALL_BAR} (best ${Math.max(...paired.map((p) => p.quarry.recall)).toFixed(3)})`);
      continue;
    }
    const ratio = at.quarry.p50Ms / at.usearch.p50Ms;
    met = (met ?? true) && ratio <= 1.2;
    parts.push(
      `${config.id} at ${at.quarry.label}: quarry ${ms(at.quarry.p50Ms)} ms p50 (recall ${at.quarry.recall.toFixed(3)}) vs raw usearch ${ms(at.usearch.p50Ms)} ms (recall ${at.usearch.recall.toFixed(3)}) = ${ratio.toFixed(2)}x, p99 ${(at.quarry.p99Ms / at.usearch.p99Ms).toFixed(2)}x`,
    );
  }
  return { target, met, detail: parts.join('; ') };
}

export function pairedTable(configs: ConfigResults[]): string {
  const lines = ['| Configuration | Search | quarry recall / p50 / p99 ms | raw usearch recall / p50 / p99 ms | p50 ratio |', '|---|---|---:|---:|---:|'];
  for (const { config, results } of configs) {
    for (const p of results.quarry?.paired ?? []) {
      const c = (x: PointResult) => `${x.recall.toFixed(3)} / ${ms(x.p50Ms)} / ${ms(x.p99Ms)}`;
      lines.push(`| ${config.label} | ${p.quarry.label} | ${c(p.quarry)} | ${c(p.usearch)} | ${(p.quarry.p50Ms / p.usearch.p50Ms).toFixed(2)}x |`);
    }
  }
  return lines.join('\n');
}

/**
 * Judged against the smaller of Flat's reported memory and the bare float32 vectors
 * (nBase x dims x 4): Flat may hold spare capacity, which would flatter the ratio.
 */
function memoryTarget(configs: ConfigResults[], floatBytes: number): TargetVerdict {
  const target = `IVF-PQ with refine at ≤ 1/8 of Flat's memory at recall@10 ≥ ${RECALL_BAR} (quarry stats().memoryBytes)`;
  const flat = configs.find((c) => c.config.kind === 'flat')?.results.quarry;
  if (!flat?.available || flat.memoryBytes === undefined) return { target, met: null, detail: 'no quarry Flat row to compare with' };
  const base = Math.min(flat.memoryBytes, floatBytes);
  const parts: string[] = [`Flat holds ${mib(flat.memoryBytes)} MiB, the float32 vectors alone ${mib(floatBytes)} MiB; judged against ${mib(base)} MiB`];
  let met: boolean | null = null;
  for (const { config, results } of configs.filter((c) => c.config.kind === 'ivfpq')) {
    const r = results.quarry;
    if (!r?.available || r.memoryBytes === undefined) {
      parts.push(`${config.id}: no quarry row (${r?.reason ?? 'not run'})`);
      continue;
    }
    const q = operatingPoint(r);
    const frac = r.memoryBytes / base;
    const ok = frac <= 1 / 8 && q !== undefined;
    met = (met ?? false) || ok;
    parts.push(
      `${config.id}: ${mib(r.memoryBytes)} MiB = 1/${(1 / frac).toFixed(1)}` +
        (q ? `, recall ${q.recall.toFixed(3)} at ${q.label} (p50 ${ms(q.p50Ms)} ms)` : `, but recall stays below ${RECALL_BAR} (best ${Math.max(...r.points.map((p) => p.recall)).toFixed(3)})`),
    );
  }
  return { target, met, detail: parts.join('; ') };
}

export function evaluateTargets(configs: ConfigResults[], floatBytes: number): TargetVerdict[] {
  return [hnswTarget(configs), latencyTarget(configs, 'ivf', 'faiss', 'FAISS IVF', 2), memoryTarget(configs, floatBytes)];
}

function verdictLine(t: TargetVerdict): string {
  const word = t.met === null ? 'NOT MEASURED' : t.met ? 'MET' : 'MISSED';
  return `- **${word}**: ${t.target}. ${t.detail}.`;
}

export function markdownSection(r: AnnReport): string {
  const m = r.machine;
  const d = r.data;
  return [
    '## ANN indexes: quarry vs FAISS vs LanceDB (`npm run bench:ann`)',
    '',
    `Command: \`${r.command}\` (results: \`bench/results/ann.json\`), run ${r.startedAt} – ${r.finishedAt}.`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, Node ${m.node}, load average ${m.loadAtStart} at the start and ${m.loadAtEnd} at the end (a shared machine: compare the ratios within this run). ` +
      `Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    `Data: ${d.corpus}: ${d.n} passages embedded with ${d.model} (${d.dims}-d, L2-normalized, title + "\\n" + text); ` +
      `${d.nQueries} held-out passages (seeded selection, not indexed) are the queries, the other ${d.nBase} the index. ` +
      `Ground truth: exact top-${d.k} by inner product (usearch exactSearch). IVF / IVF-PQ train on the same ${d.trainSample} sampled base vectors in quarry and FAISS (LanceDB: sampleRate x nlist of its own sample). ` +
      `Latency: each query alone, p50 / p99 over ${d.nQueries} queries after ${d.warmup} warm-up queries, one search thread.`,
    '',
    '### Targets',
    '',
    ...r.targets.map(verdictLine),
    '',
    '### Search: recall@10 / p50 ms / p99 ms',
    '',
    searchTable(r.configs),
    '',
    '### HNSW: quarry vs raw usearch on the same graph',
    '',
    "quarry's saved HNSW payload loaded into a plain `usearch.Index` (expansion_search = ef, k = 10), the two searched alternately query by query in one process: the wrapper's own cost, free of machine drift. (The raw usearch column above is a separate build in a separate process.)",
    '',
    pairedTable(r.configs),
    '',
    '### Build, memory, disk',
    '',
    'Memory: what the index reports holding (quarry `stats().memoryBytes`; FAISS and raw usearch: serialized size; LanceDB: size of its index files, which it caches whole). RSS Δ: process RSS after the build minus before it, inputs already loaded, after GC (LanceDB: after its first search point).',
    '',
    buildTable(r.configs),
    '',
    '### Reading these numbers',
    '',
    '- Every row of a configuration ran in the same run on the same vectors and queries, but each system in its own process, one after another; on a shared machine the p99 column mostly shows the scheduler (a preempted query waits a time slice of about 4 ms). The HNSW ratio above is the one measured side by side.',
    "- LanceDB is driven through its Node package, awaited one query at a time: its latency includes planning each query and converting the result to JS rows, a floor of about 1.5–2 ms whatever the index, which is what a Node caller pays.",
    "- IVF-PQ memory: quarry keeps codes, lists and centroids; refine reads float32 rows from disk. FAISS's IndexRefineFlat keeps every float32 vector in memory (its note gives the IVF-PQ part alone); LanceDB reads them from its table.",
    '- FAISS trains product quantizers with 25 k-means iterations, quarry with 12; both train the coarse quantizer with 10. i8 HNSW: usearch scales each vector to int8, FAISS (IndexHNSWSQ QT_8bit) and LanceDB (SQ) quantize each dimension over its range, the likely reason for their higher recall at the same ef.',
    '',
  ].join('\n');
}

/** Replaces this benchmark's section in BENCHMARKS.md (or appends it), leaving other sections alone. */
export function writeSection(path: string, section: string): void {
  writeMarkedSection(path, 'bench:ann', section);
}
