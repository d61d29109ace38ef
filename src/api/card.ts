/**
 * The system card: a Markdown document describing a collection's deployment as it is (its
 * data and lineage, model identity and fingerprint check, chunking, index and measured
 * recall, evaluations and the promotion gate, alert thresholds, known limitations, version
 * history). Everything in it is read from the store, the deployment file, the evaluation
 * history and the shipped alert rules at the moment it is generated; nothing is kept by hand,
 * so regenerating it is the only way to update it. `facts` is the structured data the
 * Markdown is rendered from, so what the card says can be checked against the store.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity, type ModelIdentity } from '../embed/identity.js';
import { packageRoot } from '../embed/models/package-root.js';
import { readEvalHistory, type EvalHistoryEntry } from '../eval/history.js';
import { readJudgments } from '../eval/judgments.js';
import { Collection } from '../store/collection.js';
import { describeAnnFreshness } from '../store/collection-index.js';
import { readLexicalState, type LexicalState } from '../store/collection-lexical.js';
import type { Deployment, GateResult } from '../store/deployment.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import { listGenerations } from './generations.js';
import { refOf } from './load-model.js';
import { annStateOf, type CollectionInfo } from './info.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';
import { verify } from './verify.js';
import { versions, type VersionInfo } from './versions.js';

export interface CardOptions extends CollectionOptions {
  /** Re-embed the fingerprint probes with the model as it loads today (default true). */
  verifyModel?: boolean;
  /** A loaded embedder to check instead of loading the collection's model. */
  embedder?: Embedder;
  /** Loads the collection's model by reference (the server hands in its warm models); default: from the models folder. */
  loadEmbedder?: (ref: string) => Promise<Embedder>;
  /** Source groups listed by name before "and N more" (default 10). */
  topSources?: number;
  /** How the card's commands name the data folder (default: as given); the server shows `<data>`, not its own path. */
  dataDirLabel?: string;
}

export interface DocumentGroup {
  value: string;
  documents: number;
  chunks: number;
  bytes: number;
}

export interface SourceGroup extends DocumentGroup {
  /** folder: files directly in it; file: one file holding many documents (JSON Lines); records: documents handed over in memory (HTTP API, upsertDocuments). */
  kind: 'folder' | 'file' | 'records';
}

export type ModelCheck =
  | { status: 'passed' | 'failed'; candidate: string; minCosine: number; meanCosine: number; threshold: number; identityDifferences: string[] }
  | { status: 'not checked'; reason: string };

export interface AlertRule {
  name: string;
  expr: string;
  for: string | null;
  severity: string | null;
  summary: string | null;
}

export interface Limitation {
  /** state: follows from this collection as it is now; standing: true of quarry itself today. */
  source: 'state' | 'standing';
  text: string;
}

export interface CardFacts {
  collection: string;
  /** The data folder as the card's commands name it. */
  dataDir: string;
  generatedAt: string;
  quarryVersion: string;
  /** The command that regenerates this card. */
  regenerate: string;
  /** The current content version of the live generation. */
  version: number;
  data: {
    documents: number;
    chunks: number;
    bytes: number;
    byFormat: DocumentGroup[];
    bySource: { groups: SourceGroup[]; top: SourceGroup[]; more: number; moreDocuments: number };
    ingested: { first: string | null; last: string | null };
    lineage: { embeddedWith: DocumentGroup[]; chunking: DocumentGroup[]; expectedModel: string; expectedChunking: string; consistent: boolean };
  };
  model: { identity: ModelIdentity; description: string; fingerprint: { probeSet: string; probes: number }; check: ModelCheck };
  chunking: ChunkingSettings;
  index: { settings: IndexSettings; ann: CollectionInfo['ann']; lexical: LexicalState | null };
  evaluation: {
    /** Runs recorded in the evaluation history. */
    runs: number;
    /** History lines that could not be read (a torn last line). */
    unreadable: number;
    latest: (EvalHistoryEntry & { command: string }) | null;
    gate: (GateResult & { generation: number; command: string }) | null;
    judgments: { queries: number; source: string; setAt: string } | null;
  };
  alerts: { file: string; rules: AlertRule[]; problem: string | null };
  limitations: Limitation[];
  versions: VersionInfo[];
  generations: Deployment;
}

/**
 * Limitations of quarry itself, each true today (README, docs/server.md, docs/models.md):
 * change this list when one stops being true.
 */
export const STANDING_LIMITATIONS: readonly string[] = [
  'Single node: a collection is served by one process, with no replication or sharding; one writer at a time per collection (write.lock).',
  "Evaluation jobs started over HTTP live in the server's memory (the last 100 finished); a restart forgets the jobs, though finished runs stay in the evaluation history.",
  'The cross-encoder tier 2 (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2) is untested on its real weights: no registry artifact carrying them is known, and no test runs it.',
  'Embedding runs on the CPU only (ONNX Runtime for Node; its CUDA provider is not in the npm package).',
  "BM25's analyzer is English-centric (English stopwords, Porter stemming); other languages get case folding and word segmentation only.",
];

const HTTP_EVALUATION = 'recorded by the HTTP evaluation API';
const ALERTS_PATH = join('deploy', 'prometheus', 'alerts.yml');

function quarryVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** Shell-quotes an argument when it needs it, so the commands in the card can be pasted; a `<placeholder>` stays as it is. */
export function sh(arg: string): string {
  if (/^<[^<>]+>$/.test(arg)) return arg;
  return /^[A-Za-z0-9_./:@=,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The alert rules shipped in deploy/prometheus/alerts.yml (resolved from the package root). */
export function readAlertRules(file = join(packageRoot(), ALERTS_PATH)): { file: string; rules: AlertRule[]; problem: string | null } {
  if (!existsSync(file)) return { file, rules: [], problem: `${file} is not there (it ships with the source tree, not the npm package)` };
  let doc: { groups?: Array<{ rules?: Array<Record<string, unknown>> }> };
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) as typeof doc;
  } catch (e) {
    return { file, rules: [], problem: `${file} cannot be parsed: ${(e as Error).message}` };
  }
  const rules: AlertRule[] = [];
  for (const g of doc?.groups ?? []) {
    for (const r of g.rules ?? []) {
      if (typeof r.alert !== 'string') continue; // recording rules feed the alerts; the card lists the alerts
      const labels = (r.labels ?? {}) as Record<string, unknown>;
      const annotations = (r.annotations ?? {}) as Record<string, unknown>;
      rules.push({
        name: r.alert,
        expr: String(r.expr ?? '').trim(),
        for: typeof r.for === 'string' ? r.for : null,
        severity: typeof labels.severity === 'string' ? labels.severity : null,
        summary: typeof annotations.summary === 'string' ? annotations.summary : null,
      });
    }
  }
  return { file, rules, problem: null };
}

/** Sources grouped the way people put documents in: by folder, a many-document file on its own, records together. */
function groupSources(rows: Array<{ source: string; format: string; documents: number; chunks: number; bytes: number }>): SourceGroup[] {
  const groups = new Map<string, SourceGroup>();
  for (const r of rows) {
    let value: string;
    let kind: SourceGroup['kind'];
    if (r.format === 'record') [value, kind] = ['(records sent over the HTTP API or upsertDocuments)', 'records'];
    else if (r.documents > 1 || !isAbsolute(r.source)) [value, kind] = [r.source, 'file'];
    else [value, kind] = [dirname(r.source), 'folder'];
    const key = `${kind}\u0000${value}`;
    const g = groups.get(key) ?? { value, kind, documents: 0, chunks: 0, bytes: 0 };
    g.documents += r.documents;
    g.chunks += r.chunks;
    g.bytes += r.bytes;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.documents - a.documents || a.value.localeCompare(b.value));
}

async function checkModel(opts: CardOptions, stored: ModelIdentity): Promise<ModelCheck> {
  if (opts.verifyModel === false) return { status: 'not checked', reason: 'skipped on request (--no-verify)' };
  try {
    // verify() closes only an embedder it loaded itself; one handed in stays open for its owner
    const embedder = opts.embedder ?? (opts.loadEmbedder ? await opts.loadEmbedder(refOf(stored)) : undefined);
    const r = await verify({ dataDir: opts.dataDir, collection: opts.collection, modelsDir: opts.modelsDir, embedder });
    // a model whose identity differs is refused for search whatever its probes say
    const passed = r.passed && r.identityDifferences.length === 0;
    return { status: passed ? 'passed' : 'failed', candidate: r.candidate, minCosine: r.minCosine, meanCosine: r.meanCosine, threshold: r.threshold, identityDifferences: r.identityDifferences };
  } catch (e) {
    return { status: 'not checked', reason: `the model could not be loaded here: ${(e as Error).message}` };
  }
}

function stateLimitations(f: Omit<CardFacts, 'limitations'>): string[] {
  const out: string[] = [];
  const ann = f.index.ann;
  if (f.data.documents === 0) out.push('The collection holds no documents: every search answers nothing.');
  if (ann.fallback) out.push(`Exact search stands in for the ${ann.type} index: ${ann.fallback}.`);
  else if (ann.recallAt10 === null) out.push(`The recall of the ${ann.type} index has not been measured.`);
  else if (ann.recallAt10 < ann.recallFloor) out.push(`The ${ann.type} index's measured recall@10 (${ann.recallAt10}) is under its floor (${ann.recallFloor}): approximate search misses neighbours exact search finds.`);
  const check = f.model.check;
  if (check.status === 'failed') out.push(`The model as it loads here is not the one the collection was built with, or no longer reproduces its fingerprint (lowest probe cosine ${check.minCosine.toFixed(4)}, threshold ${check.threshold}): fix the model or rebuild the collection before serving it.`);
  if (check.status === 'not checked') out.push(`The model's fingerprint was not checked for this card (${check.reason}).`);
  if (!f.data.lineage.consistent) out.push('Not every live document was embedded with the current model and chunking (see Lineage).');
  if (!f.evaluation.judgments) out.push('No held-out judgments are set: a model upgrade has no promotion gate to pass, only --force.');
  if (!f.evaluation.latest) out.push('No evaluation run of this collection is recorded.');
  else if (f.evaluation.latest.model !== f.model.description) out.push(`The latest evaluation measured ${f.evaluation.latest.model}, not the live model (${f.model.description}).`);
  if (!f.index.lexical && f.data.documents > 0) out.push('The BM25 index is not saved yet: the first bm25 or hybrid search builds it in memory.');
  if (f.alerts.problem) out.push(`The alert rules could not be read: ${f.alerts.problem}.`);
  return out;
}

/** Reads everything the card says from the collection's real state, then renders it. */
export async function systemCard(opts: CardOptions = {}): Promise<{ markdown: string; facts: CardFacts }> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  const generatedAt = new Date().toISOString();
  const base = { dataDir, collection: name, modelsDir: opts.modelsDir };

  const c = await Collection.open(dataDir, name, 'read');
  let data: CardFacts['data'];
  let model: Omit<CardFacts['model'], 'check'>;
  let index: CardFacts['index'];
  let version: number;
  let chunking: ChunkingSettings;
  try {
    const m = c.manifest;
    chunking = m.chunking;
    // the forms ingest records in doc_versions.embedded_with and .chunking
    const expectedModel = `${m.model.id}:${m.model.variant}@${m.model.weightsSha256.slice(0, 12)}`;
    const expectedChunking = JSON.stringify({ chunkTokens: m.chunking.chunkTokens, overlapTokens: m.chunking.overlapTokens });
    // One read transaction: every count comes from the same committed state.
    ({ data, index, version } = c.db.snapshot(() => {
      const counts = c.db.counts();
      const byFormat = c.db.liveDocumentGroups('format');
      const groups = groupSources(c.db.liveSourceGroups());
      const top = groups.slice(0, opts.topSources ?? 10);
      const rest = groups.slice(top.length);
      const embeddedWith = c.db.liveDocumentGroups('embedded_with');
      const chunking = c.db.liveDocumentGroups('chunking');
      return {
        version: c.db.head(),
        index: { settings: m.index, ann: annStateOf(c, counts.chunks), lexical: readLexicalState(c) },
        data: {
          documents: counts.documents,
          chunks: counts.chunks,
          bytes: byFormat.reduce((n, g) => n + g.bytes, 0),
          byFormat,
          bySource: { groups, top, more: rest.length, moreDocuments: rest.reduce((n, g) => n + g.documents, 0) },
          ingested: c.db.liveIngestRange(),
          lineage: {
            embeddedWith,
            chunking,
            expectedModel,
            expectedChunking,
            consistent: embeddedWith.every((g) => g.value === expectedModel) && chunking.every((g) => g.value === expectedChunking),
          },
        },
      };
    }));
    model = { identity: m.model, description: describeIdentity(m.model), fingerprint: { probeSet: m.fingerprint.probeSet, probes: m.fingerprint.probes.length } };
  } finally {
    await c.close();
  }

  const check = await checkModel(opts, model.identity);
  const history = await readEvalHistory(dataDir, name);
  const last = history.entries.at(-1);
  const generations = await listGenerations(base);
  const gated = generations.generations.filter((g) => g.gate).sort((a, b) => a.gate!.at.localeCompare(b.gate!.at));
  const lastGated = gated.at(-1);
  const judgments = await readJudgments(dataDir, name);
  const shownDataDir = opts.dataDirLabel ?? dataDir;
  const dataArg = `--data ${sh(shownDataDir)} --collection ${sh(name)}`;

  const facts: Omit<CardFacts, 'limitations'> = {
    collection: name,
    dataDir: shownDataDir,
    generatedAt,
    quarryVersion: quarryVersion(),
    regenerate: `quarry card ${dataArg}`,
    version,
    data,
    model: { ...model, check },
    chunking,
    index,
    evaluation: {
      runs: history.entries.length,
      unreadable: history.skipped,
      latest: last ? { ...last, command: last.command ?? HTTP_EVALUATION } : null,
      gate: lastGated
        ? {
            ...lastGated.gate!,
            generation: lastGated.id,
            command: `quarry promote ${dataArg} --mode ${lastGated.gate!.mode} --tolerance ${+(lastGated.gate!.tolerance * 100).toFixed(4)}${lastGated.gate!.forced ? ' --force' : ''}`,
          }
        : null,
      judgments: judgments ? { queries: judgments.queries.length, source: judgments.source, setAt: judgments.setAt } : null,
    },
    alerts: readAlertRules(),
    versions: await versions(base),
    generations,
  };
  const full: CardFacts = {
    ...facts,
    limitations: [...stateLimitations(facts).map((text) => ({ source: 'state' as const, text })), ...STANDING_LIMITATIONS.map((text) => ({ source: 'standing' as const, text }))],
  };
  return { markdown: renderCard(full), facts: full };
}

// --- rendering -------------------------------------------------------------------------------

/** A table cell: one line, pipes escaped. */
function cell(v: unknown): string {
  const s = v === null || v === undefined || v === '' ? '–' : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** Inline code that survives backticks in its content. */
function code(v: string): string {
  const s = v.replace(/\s*\n\s*/g, ' ');
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${s}${fence === '``' ? ' ' : ''}${fence}`;
}

function table(head: string[], rows: unknown[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const num = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));

function renderCard(f: CardFacts): string {
  const L: string[] = [];
  const d = f.data;
  const m = f.model.identity;
  const live = f.generations.generations.find((g) => g.id === f.generations.live);

  L.push(`# System card: collection ${code(f.collection)}`, '');
  L.push(
    `Generated ${f.generatedAt} by quarry ${f.quarryVersion} from the collection's stored state (live generation ${f.generations.live}, content version ${f.version}). ` +
      `It is not edited by hand: regenerate it with ${code(f.regenerate)}.`,
    '',
  );

  // --- data
  L.push('## Data sources', '');
  L.push(...table(['', ''], [
    ['documents', d.documents],
    ['chunks', d.chunks],
    ['source text', bytes(d.bytes)],
    ['ingested', d.ingested.first ? `${d.ingested.first} to ${d.ingested.last}` : 'nothing yet'],
  ]));
  L.push('', '### By format', '');
  L.push(...table(['format', 'documents', 'chunks'], d.byFormat.map((g) => [g.value, g.documents, g.chunks])));
  L.push('', '### By source', '');
  L.push(...table(['source', 'kind', 'documents', 'chunks'], d.bySource.top.map((g) => [g.value, g.kind, g.documents, g.chunks])));
  if (d.bySource.more > 0) L.push('', `…and ${d.bySource.more} more source${d.bySource.more === 1 ? '' : 's'} (${d.bySource.moreDocuments} documents).`);
  L.push('', '### Lineage', '');
  L.push('Each live document records the model that embedded it and the chunking it was cut with.', '');
  L.push(...table(['embedded with', 'documents', 'chunks'], d.lineage.embeddedWith.map((g) => [g.value, g.documents, g.chunks])));
  L.push('');
  L.push(...table(['chunking', 'documents', 'chunks'], d.lineage.chunking.map((g) => [g.value, g.documents, g.chunks])));
  L.push(
    '',
    d.lineage.consistent
      ? `Every live document was embedded with the collection's model (${code(d.lineage.expectedModel)}) and chunking.`
      : `**Mixed lineage:** not every live document matches the collection's model (${code(d.lineage.expectedModel)}) and chunking (${code(d.lineage.expectedChunking)}).`,
    '',
  );

  // --- model
  L.push('## Model', '');
  L.push(...table(['', ''], [
    ['id', m.id],
    ['variant', m.variant],
    ['revision', `${m.revision} (from ${m.source})`],
    ['weights sha256', code(m.weightsSha256)],
    ['tokenizer sha256', code(m.tokenizerSha256)],
    ['dimensions', m.dims],
    ['pooling', `${m.pooling}${m.normalize ? ', L2-normalized' : ''}`],
    ['max sequence', `${m.maxSeqLength} tokens`],
    ['query prefix', m.queryPrefix ? code(m.queryPrefix) : 'none'],
    ['fingerprint', `${f.model.fingerprint.probes} probe sentences (${f.model.fingerprint.probeSet})`],
  ]));
  const ck = f.model.check;
  L.push(
    '',
    ck.status === 'not checked'
      ? `**Fingerprint check: not checked.** ${ck.reason}. Check it with ${code(`quarry verify --data ${sh(f.dataDir)} --collection ${sh(f.collection)}`)}.`
      : ck.status === 'passed'
        ? `**Fingerprint check: passed.** The model as it loads here reproduces the stored fingerprint: lowest probe cosine ${ck.minCosine.toFixed(4)}, mean ${ck.meanCosine.toFixed(4)} (threshold ${ck.threshold}).`
        : `**Fingerprint check: FAILED.** ${ck.candidate}: lowest probe cosine ${ck.minCosine.toFixed(4)}, mean ${ck.meanCosine.toFixed(4)} (threshold ${ck.threshold})` +
          `${ck.identityDifferences.length ? `; its identity differs from the stored one (${ck.identityDifferences.join('; ')})` : ''}: the runtime, tokenizer or weights changed.`,
    '',
  );

  // --- chunking and index
  L.push('## Chunking', '');
  L.push(`${f.chunking.chunkTokens} tokens per chunk, ${f.chunking.overlapTokens} tokens of overlap, counted by the model's own tokenizer (special tokens included), preferring sentence boundaries.`, '');
  const a = f.index.ann;
  L.push('## Index', '');
  const recall = a.fallback
    ? `not measured: exact search stands in (${a.fallback})`
    : a.recallAt10 === null
      ? 'not measured'
      : a.type === 'flat'
        ? `${a.recallAt10} (exact search)`
        : `${a.recallAt10} on ${a.recallQueries} stored chunks as queries, against exact search (floor ${a.recallFloor}); ${describeAnnFreshness(a)}`;
  const lex = f.index.lexical;
  L.push(...table(['', ''], [
    ['type', f.index.settings.type],
    // what the build used (defaults filled in); before a first build, what was asked for
    ['parameters', Object.keys(a.params).length ? code(JSON.stringify(a.params)) : f.index.settings.params ? code(JSON.stringify(f.index.settings.params)) : 'defaults'],
    ['vectors', a.vectors],
    ['recall@10', recall],
    ['built', `${a.builtAt} (content version ${a.generation})`],
    [
      'BM25',
      lex
        ? `analyzer ${lex.analyzer}, ${lex.documents} chunks, ${lex.terms} terms, built ${lex.builtAt} (content version ${lex.generation})` +
          (lex.pendingChanges ? `; ${lex.pendingChanges} changes since are not in the saved file yet (readers add them on load)` : '')
        : 'not saved yet (built in memory by the first lexical search)',
    ],
  ]));
  L.push('');

  // --- evaluation
  L.push('## Evaluation', '');
  const ev = f.evaluation.latest;
  if (ev) {
    L.push(
      `Latest of ${f.evaluation.runs} recorded run${f.evaluation.runs === 1 ? '' : 's'}: ${ev.at}, dataset ${code(ev.dataset)} (split ${ev.split}, ${ev.queries} queries), model ${ev.model}, over ${ev.documents} documents / ${ev.chunks} chunks${ev.job ? ` (job ${ev.job})` : ''}.`,
      '',
      `Produced by: ${ev.command === HTTP_EVALUATION ? ev.command : code(ev.command)}.`,
      '',
    );
    const k = ev.k;
    L.push(
      ...table(
        ['mode', `nDCG@${k}`, 'Recall@100', `MRR@${k}`, `P@${k}`, 'p50 ms', 'p99 ms'],
        ev.modes.map((x) => [x.mode, num(x.metrics[`ndcg@${k}`]), num(x.metrics['recall@100']), num(x.metrics[`mrr@${k}`]), num(x.metrics[`p@${k}`]), x.latencyMs.p50.toFixed(1), x.latencyMs.p99.toFixed(1)]),
      ),
    );
  } else {
    L.push(
      'No evaluation run of this collection is recorded. A run is recorded when it goes through the server (it ingests the BEIR corpus into the collection it names, so give it a collection of its own):',
      '',
      '```sh',
      `quarry serve --data ${sh(f.dataDir)} --datasets <DIR>`,
      `curl -X POST http://127.0.0.1:8080/collections/${f.collection}/evaluations -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"dataset": "<BEIR folder under DIR>"}'`,
      '```',
    );
  }
  if (f.evaluation.unreadable > 0) L.push('', `(${f.evaluation.unreadable} line(s) of the evaluation history could not be read.)`);
  L.push('', '### Promotion gate', '');
  const j = f.evaluation.judgments;
  L.push(j ? `Held-out judgments: ${j.queries} queries from ${code(j.source)}, set ${j.setAt}.` : 'Held-out judgments: none set.', '');
  const gate = f.evaluation.gate;
  if (gate) {
    L.push(
      `Last gate, ${gate.at}: shadow generation ${gate.shadow.generation} against live generation ${gate.live.generation}, ${gate.mode} search on ${gate.queries} held-out queries, tolerance ${gate.tolerance}: ` +
        `**${gate.passed ? 'passed' : 'refused'}**${gate.forced ? ' (promoted with --force anyway)' : ''}.`,
      '',
      ...table(['', 'generation', 'model', 'nDCG@10', 'Recall@100'], [
        ['live', gate.live.generation, gate.live.model, num(gate.live['ndcg@10']), num(gate.live['recall@100'])],
        ['shadow', gate.shadow.generation, gate.shadow.model, num(gate.shadow['ndcg@10']), num(gate.shadow['recall@100'])],
      ]),
      '',
      `Produced by: ${code(gate.command)}.`,
    );
  } else {
    const dataArg = `--data ${sh(f.dataDir)} --collection ${sh(f.collection)}`;
    L.push(
      'No promotion gate has run. One runs when a new generation is promoted:',
      '',
      '```sh',
      ...(j ? [] : [`quarry judgments set <BEIR folder or .jsonl> ${dataArg}`]),
      `quarry reindex ${dataArg} --model <model>`,
      `quarry promote ${dataArg}`,
      '```',
    );
  }
  L.push('');

  // --- alerts
  L.push('## Alert thresholds', '');
  if (f.alerts.problem) L.push(`The alert rules could not be read: ${f.alerts.problem}.`);
  else {
    L.push(`From ${code(ALERTS_PATH)} (${f.alerts.rules.length} alerts; load the whole file, the alerts read its recording rules):`, '');
    L.push(...table(['alert', 'severity', 'for', 'summary', 'expression'], f.alerts.rules.map((r) => [r.name, r.severity, r.for, r.summary, code(r.expr)])));
  }
  L.push('');

  // --- limitations
  L.push('## Known limitations', '', '### From this collection\'s state', '');
  const fromState = f.limitations.filter((x) => x.source === 'state');
  L.push(...(fromState.length ? fromState.map((x) => `- ${x.text}`) : ['- None found.']));
  L.push('', '### Of quarry itself', '');
  L.push(...f.limitations.filter((x) => x.source === 'standing').map((x) => `- ${x.text}`), '');

  // --- history
  L.push('## Version history', '', '### Content versions', '');
  L.push(
    ...table(
      ['version', 'created', 'kind', 'documents', 'chunks', 'model', 'index', 'note'],
      f.versions.map((v) => [v.current ? `**${v.version}** (current)` : v.version, v.createdAt, v.kind, v.documents, v.chunks, v.model, String(v.index.type ?? ''), v.note]),
    ),
  );
  L.push('', '### Model generations', '');
  const gens = f.generations;
  L.push(
    ...table(
      ['generation', 'state', 'model', 'chunking', 'index', 'created', 'promoted', 'retired', 'gate'],
      gens.generations.map((g) => [
        g.id === gens.live ? `**${g.id}** (live)` : g.id,
        g.state,
        g.model,
        `${g.chunking.chunkTokens}/${g.chunking.overlapTokens}`,
        g.index.type,
        g.createdAt,
        g.promotedAt,
        g.retiredAt,
        g.gate ? `${g.gate.passed ? 'passed' : 'refused'}${g.gate.forced ? ', forced' : ''} (${g.gate.at})` : '',
      ]),
    ),
  );
  const notes: string[] = [];
  if (gens.shadow !== null) notes.push(`generation ${gens.shadow} is the shadow`);
  if (gens.previous.length) notes.push(`a rollback returns to generation ${gens.previous.at(-1)}`);
  notes.push(`gc keeps up to ${gens.retention} retired generation${gens.retention === 1 ? '' : 's'} for rollback`);
  L.push('', `Live: generation ${gens.live}${live ? ` (${live.model})` : ''}; ${notes.join('; ')}.`, '');
  return L.join('\n');
}
