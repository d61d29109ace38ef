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
import { readLexicalState, type LexicalState } from '../store/collection-lexical.js';
import type { Deployment, GateResult } from '../store/deployment.js';
import { chunkingLineage, modelLineage } from '../store/lineage.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import { listGenerations } from './generations.js';
import { refOf } from './load-model.js';
import { annStateOf, type CollectionInfo } from './info.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';
import { verify } from './verify.js';
import { ALERTS_PATH, HTTP_EVALUATION, sh, type AlertRule, type CardFacts, type ModelCheck, type SourceGroup } from './card-facts.js';
import { renderCard } from './card-render.js';

export { sh } from './card-facts.js';
export type { AlertRule, CardFacts, DocumentGroup, Limitation, ModelCheck, SourceGroup } from './card-facts.js';
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


function quarryVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
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
    const expectedModel = modelLineage(m.model);
    const expectedChunking = chunkingLineage(m.chunking);
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
