import { existsSync } from 'node:fs';
import { readIndexFile } from '../index/index-file.js';
import { Bm25Index } from '../lexical/bm25-index.js';
import { lexicalFile } from './collection-lexical.js';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { CollectionCorruptError } from '../errors.js';
import type { Collection } from './collection.js';
import { indexFile, readAnnState } from './collection-index.js';
import { SOURCE_OF_TRUTH_REMEDY } from './metadata-db.js';
import { isUnitRow, readSegment } from './vector-segments.js';

export interface CheckReport {
  collection: string;
  ok: boolean;
  generation: number;
  problems: string[];
  /** Facts worth knowing that are not damage (a write in progress). */
  notes: string[];
  checked: { documents: number; chunks: number; segments: number; vectors: number };
}

/**
 * `quarry check`: reads everything a search depends on and says what is wrong, loudly.
 * SQLite's own integrity check, every vector segment's size and sha256, every live chunk's
 * vector location and text hash, one live version per document with all its chunks,
 * unit-length finite vectors, the ANN and BM25 files' checksums. Never repairs: `quarry
 * repair` rebuilds what is derivable, knowingly (see docs/failure-modes.md).
 */
export async function checkCollection(c: Collection): Promise<CheckReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const counts = { documents: 0, chunks: 0, segments: 0, vectors: 0 };
  let generation = 0;
  try {
    generation = await checkParts(c, problems, notes, counts);
  } catch (e) {
    // a damaged page met by any query: meta.sqlite is damaged, and nothing below it can be trusted
    if (!(e instanceof CollectionCorruptError)) throw e;
    problems.push(e.problem);
  }
  if (problems.some((p) => p.startsWith('meta.sqlite'))) {
    notes.push(SOURCE_OF_TRUTH_REMEDY);
  } else if (problems.length > 0) {
    notes.push(`what is derived (vectors, ANN and BM25 indexes) is rebuilt by \`quarry repair --collection ${c.name}\`; \`--dry-run\` says what it would do`);
  }
  return { collection: c.name, ok: problems.length === 0, generation, problems, notes, checked: counts };
}

/** The report for a collection whose meta.sqlite is too damaged to open at all. */
export function unopenableReport(collection: string, e: CollectionCorruptError): CheckReport {
  return {
    collection,
    ok: false,
    generation: 0,
    problems: [e.problem],
    notes: [SOURCE_OF_TRUTH_REMEDY],
    checked: { documents: 0, chunks: 0, segments: 0, vectors: 0 },
  };
}

async function checkParts(c: Collection, problems: string[], notes: string[], counts: CheckReport['checked']): Promise<number> {
  const db = c.db.db;
  const dims = c.manifest.model.dims;
  const sqlite = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  if (sqlite.length !== 1 || sqlite[0].integrity_check !== 'ok') {
    problems.push(`meta.sqlite fails SQLite's integrity check: ${sqlite.map((r) => r.integrity_check).slice(0, 5).join('; ')}`);
    return 0;
  }
  const { generation, segments, refs, docs } = c.db.snapshot(() => ({
    generation: c.db.head(),
    segments: c.db.segments(),
    refs: c.db.liveVectorRefs(),
    docs: db
      .prepare(
        `SELECT l.doc_id, l.version, d.chunk_count AS expected, d.doc_id IS NOT NULL AS known,
                (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = l.doc_id AND c.doc_version = l.version) AS actual
         FROM doc_live l LEFT JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version
         WHERE l.to_gen IS NULL`,
      )
      .all() as Array<{ doc_id: string; version: number; expected: number | null; known: number; actual: number }>,
  }));
  counts.documents = docs.length;
  counts.chunks = refs.length;
  counts.segments = segments.length;
  counts.vectors = refs.length;
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.doc_id)) problems.push(`document ${d.doc_id} has more than one live version`);
    seen.add(d.doc_id);
    if (!d.known) problems.push(`document ${d.doc_id} version ${d.version} is live but has no record`);
    else if (d.expected !== d.actual) problems.push(`document ${d.doc_id} should have ${d.expected} chunks, has ${d.actual}`);
  }
  // chunk text is what results show: each must still hash to what was recorded when written
  let badText = 0;
  const textOf = db.prepare('SELECT text, text_hash FROM chunks WHERE id = ?');
  for (const r of refs) {
    const row = textOf.get(r.id) as { text: string; text_hash: string } | undefined;
    if (row && createHash('sha256').update(row.text).digest('hex') !== row.text_hash) badText++;
  }
  if (badText > 0) problems.push(`meta.sqlite: the text of ${badText} live chunks does not match its recorded sha256`);
  const segById = new Map(segments.map((s) => [s.id, s]));
  const data = new Map<number, Float32Array>();
  for (const s of segments) {
    const path = join(c.paths.vectors, s.file);
    try {
      data.set(s.id, await readSegment(path, s, c.name));
    } catch (e) {
      problems.push(e instanceof CollectionCorruptError ? e.problem : String(e));
    }
  }
  let badVectors = 0;
  const badIn = new Set<string>();
  for (const r of refs) {
    const seg = segById.get(r.segment);
    if (!seg) {
      problems.push(`chunk ${r.id} points at vector segment ${r.segment}, which does not exist`);
      continue;
    }
    if (r.row < 0 || r.row >= seg.count) {
      problems.push(`chunk ${r.id} points at row ${r.row} of ${seg.file}, which has ${seg.count} rows`);
      continue;
    }
    const v = data.get(r.segment);
    if (!v) continue;
    if (!isUnitRow(v, r.row, dims)) {
      badVectors++;
      badIn.add(seg.file);
    }
  }
  if (badVectors > 0) problems.push(`${badVectors} live vectors are not finite unit vectors (in ${[...badIn].join(', ')})`);
  // The ANN and BM25 files are derived data, but a damaged one must fail loudly, never answer wrongly.
  const ann = readAnnState(c);
  const annFile = indexFile(c, c.manifest.index.type);
  if (c.manifest.index.type !== 'flat' && ann && !ann.fallback && existsSync(annFile)) {
    try {
      await readIndexFile(annFile, c.manifest.index.type);
    } catch (e) {
      problems.push(`ANN index file indexes/${basename(annFile)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const lexical = lexicalFile(c);
  if (existsSync(lexical)) {
    try {
      const { payload } = await readIndexFile(lexical, 'bm25');
      Bm25Index.deserialize(payload);
    } catch (e) {
      problems.push(`lexical index ${lexical}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (c.db.pendingGeneration() !== undefined) {
    notes.push('a write is in progress or was interrupted; what it committed is live, its version is sealed when it ends or on the next write');
  }
  return generation;
}
