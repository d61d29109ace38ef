import { existsSync } from 'node:fs';
import { readIndexFile } from '../index/index-file.js';
import { Bm25Index } from '../lexical/bm25-index.js';
import { lexicalFile } from './collection-lexical.js';
import { join } from 'node:path';
import { isQuarryError } from '../errors.js';
import type { Collection } from './collection.js';
import { readSegment } from './vector-segments.js';

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
 * vector location, one live version per document with all its chunks, unit-length finite
 * vectors. Never repairs: a damaged collection must be restored or rebuilt knowingly.
 */
export async function checkCollection(c: Collection): Promise<CheckReport> {
  const problems: string[] = [];
  const db = c.db.db;
  const dims = c.manifest.model.dims;
  const sqlite = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  if (sqlite.length !== 1 || sqlite[0].integrity_check !== 'ok') {
    problems.push(`meta.sqlite fails SQLite's integrity check: ${sqlite.map((r) => r.integrity_check).slice(0, 5).join('; ')}`);
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
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.doc_id)) problems.push(`document ${d.doc_id} has more than one live version`);
    seen.add(d.doc_id);
    if (!d.known) problems.push(`document ${d.doc_id} version ${d.version} is live but has no record`);
    else if (d.expected !== d.actual) problems.push(`document ${d.doc_id} should have ${d.expected} chunks, has ${d.actual}`);
  }
  const segById = new Map(segments.map((s) => [s.id, s]));
  const data = new Map<number, Float32Array>();
  for (const s of segments) {
    const path = join(c.paths.vectors, s.file);
    if (!existsSync(path)) {
      problems.push(`vector segment ${s.file} is missing`);
      continue;
    }
    try {
      data.set(s.id, await readSegment(path, s, c.name, true));
    } catch (e) {
      problems.push(isQuarryError(e) ? e.message.replace(/^collection "[^"]+" is damaged: /, '') : String(e));
    }
  }
  let badVectors = 0;
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
    let norm = 0;
    for (let j = r.row * dims; j < (r.row + 1) * dims; j++) norm += v[j] * v[j];
    if (!Number.isFinite(norm) || Math.abs(norm - 1) > 1e-3) badVectors++;
  }
  if (badVectors > 0) problems.push(`${badVectors} live vectors are not finite unit vectors`);
  // The BM25 file is derived data, but a damaged one must fail loudly, never answer wrongly.
  const lexical = lexicalFile(c);
  if (existsSync(lexical)) {
    try {
      const { payload } = await readIndexFile(lexical, 'bm25');
      Bm25Index.deserialize(payload);
    } catch (e) {
      problems.push(`lexical index ${lexical}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const notes: string[] = [];
  if (c.db.pendingGeneration() !== undefined) {
    notes.push('a write is in progress or was interrupted; what it committed is live, its version is sealed when it ends or on the next write');
  }
  return {
    collection: c.name,
    ok: problems.length === 0,
    generation,
    problems,
    notes,
    checked: { documents: docs.length, chunks: refs.length, segments: segments.length, vectors: refs.length },
  };
}
