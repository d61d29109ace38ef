/**
 * `quarry repair`: rebuilds what can be derived from a collection's source of truth
 * (meta.sqlite: text, metadata, versions) and says plainly what cannot be.
 *
 * - A vector segment that fails its sha256, is truncated or missing, or holds rows that are
 *   not finite unit vectors is re-derived: each row's embedding input is rebuilt from the
 *   stored chunk text (and checked against the recorded embed hash, so it is the very input
 *   that was embedded), its vector taken from the embedding cache (another chunk with the same
 *   input whose segment is sound) or re-embedded with the collection's own model. The rows go
 *   to a new segment file, chunk rows are re-pointed in one transaction (as compaction does),
 *   and the damaged file is deleted; no version is added, the live set is unchanged.
 * - The ANN and BM25 index files, derived data, are rebuilt when damaged or missing (and the
 *   ANN index when the vectors it was built from were re-derived).
 * - A damaged meta.sqlite, or chunk text that no longer matches its hash, is the source of
 *   truth: reported, never "repaired".
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { embedHash, titlePrefix } from '../embed/embed-input.js';
import { CollectionCorruptError } from '../errors.js';
import { readIndexFile } from '../index/index-file.js';
import type { Collection } from './collection.js';
import { indexFile, readAnnState, updateCollectionIndex } from './collection-index.js';
import { lexicalFile, readLexicalState, updateLexicalIndex } from './collection-lexical.js';
import { isUnitRow, readSegment, writeSegment, type SegmentRecord } from './vector-segments.js';

export interface RepairAction {
  kind: 'rederive-vectors' | 'rebuild-ann-index' | 'rebuild-bm25-index';
  /** Relative to the collection folder. */
  file: string;
  reason: string;
  /** rederive-vectors: rows in the segment, taken from the embedding cache, re-embedded, referenced by no chunk (written as zeros). */
  rows?: number;
  fromCache?: number;
  reembed?: number;
  unreferenced?: number;
}

export interface RepairPlan {
  actions: RepairAction[];
  /** Damage repair cannot fix (the source of truth): restore from a backup. */
  unrepairable: string[];
}

/** One row of a damaged segment and how to get its vector back. */
interface RowPlan {
  row: number;
  input: string;
  /** Where the same input's vector is in a sound segment of this collection... */
  from: { segment: number; row: number } | null;
  /** ...or its vector from another kept generation built with the same model. */
  vector: Float32Array | null;
}

/** Vectors by embed hash from outside the collection (other generations of it, same model). */
export interface RepairVectorCache {
  get(embedHash: string): Promise<Float32Array | null>;
}

interface SegmentPlan {
  seg: SegmentRecord;
  rows: RowPlan[];
}

const plans = new WeakMap<RepairPlan, SegmentPlan[]>();

function describe(e: unknown): string {
  return e instanceof CollectionCorruptError ? e.problem : e instanceof Error ? e.message : String(e);
}

/** Finds what is damaged and what repair would do about it; changes nothing. */
export async function planRepair(c: Collection, external?: RepairVectorCache): Promise<RepairPlan> {
  const plan: RepairPlan = { actions: [], unrepairable: [] };
  const db = c.db.db;
  try {
    const sqlite = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    if (sqlite.length !== 1 || sqlite[0].integrity_check !== 'ok') {
      plan.unrepairable.push(`meta.sqlite fails SQLite's integrity check: ${sqlite.map((r) => r.integrity_check).slice(0, 5).join('; ')}`);
    }
  } catch (e) {
    plan.unrepairable.push(describe(e));
  }
  if (plan.unrepairable.length > 0) return plan; // nothing derived from a damaged source can be trusted
  const badText = (db.prepare('SELECT id, text, text_hash FROM chunks').all() as Array<{ id: number; text: string; text_hash: string }>).filter(
    (r) => sha256(r.text) !== r.text_hash,
  );
  if (badText.length > 0) {
    plan.unrepairable.push(`meta.sqlite: the text of ${badText.length} chunks (first: chunk ${badText[0].id}) does not match its recorded sha256`);
    return plan;
  }

  const dims = c.manifest.model.dims;
  const segments = c.db.segments();
  const damaged = new Map<number, string>();
  const referenced = db.prepare<{ row: number }>('SELECT DISTINCT row FROM chunks WHERE segment = ?');
  for (const seg of segments) {
    try {
      const data = await readSegment(join(c.paths.vectors, seg.file), seg, c.name);
      const bad = referenced.all(seg.id).map((r) => r.row).filter((row) => row < 0 || row >= seg.count || !isUnitRow(data, row, dims));
      if (bad.length > 0) damaged.set(seg.id, `${bad.length} of its rows are not finite unit vectors`);
    } catch (e) {
      damaged.set(seg.id, describe(e).replace(/^vector segment \S+ /, ''));
    }
  }
  const segPlans: SegmentPlan[] = [];
  const rowsOf = db.prepare(
    `SELECT c.row, c.text, c.embed_hash, d.title, d.format, d.embedded_with
     FROM chunks c JOIN doc_versions d ON d.doc_id = c.doc_id AND d.version = c.doc_version
     WHERE c.segment = ? GROUP BY c.row ORDER BY c.row`,
  );
  // the embedding cache: the same input embedded into a segment that is sound
  const cached = db.prepare('SELECT segment, row FROM chunks WHERE embed_hash = ? AND segment NOT IN (SELECT value FROM json_each(?)) LIMIT 1');
  const damagedIds = JSON.stringify([...damaged.keys()]);
  for (const seg of segments) {
    const reason = damaged.get(seg.id);
    if (reason === undefined) continue;
    const rows: RowPlan[] = [];
    let unknown = 0;
    for (const r of rowsOf.all(seg.id) as Array<{ row: number; text: string; embed_hash: string; title: string | null; format: string; embedded_with: string }>) {
      if (r.row < 0 || r.row >= seg.count) continue;
      const input = titlePrefix(r.title, r.format) + r.text;
      if (embedHash(r.embedded_with, input) !== r.embed_hash) {
        unknown++;
        continue;
      }
      const from = (cached.get(r.embed_hash, damagedIds) as { segment: number; row: number } | undefined) ?? null;
      const vector = from ? null : await external?.get(r.embed_hash).catch(() => null);
      rows.push({ row: r.row, input, from, vector: vector && isUnitRow(vector, 0, dims) ? vector : null });
    }
    if (unknown > 0) {
      plan.unrepairable.push(`vectors/${seg.file}: ${unknown} rows cannot be re-derived (their stored text does not reproduce the recorded embedding input)`);
      continue;
    }
    const fromCache = rows.filter((r) => r.from || r.vector).length;
    plan.actions.push({
      kind: 'rederive-vectors',
      file: `vectors/${seg.file}`,
      reason,
      rows: seg.count,
      fromCache,
      reembed: rows.length - fromCache,
      unreferenced: seg.count - rows.length,
    });
    segPlans.push({ seg, rows });
  }

  const ann = readAnnState(c);
  const type = c.manifest.index.type;
  if (type !== 'flat' && ann && !ann.fallback && ann.type === type) {
    const file = indexFile(c, type);
    let reason: string | null = null;
    if (!existsSync(file)) reason = 'it is missing';
    else {
      try {
        await readIndexFile(file, type);
      } catch (e) {
        reason = describe(e);
      }
    }
    if (reason === null && segPlans.length > 0) reason = 'it was built from vectors being re-derived';
    if (reason !== null) plan.actions.push({ kind: 'rebuild-ann-index', file: `indexes/${type}.qidx`, reason });
  }
  if (readLexicalState(c)) {
    const file = lexicalFile(c);
    let reason: string | null = null;
    if (!existsSync(file)) reason = 'it is missing';
    else {
      try {
        await readIndexFile(file, 'bm25');
      } catch (e) {
        reason = describe(e);
      }
    }
    if (reason !== null) plan.actions.push({ kind: 'rebuild-bm25-index', file: 'indexes/bm25.qlex', reason });
  }
  plans.set(plan, segPlans);
  return plan;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * Carries out a plan made by planRepair on a collection opened for writing. `embed` is the
 * collection's own model (checked by the caller), called only for rows the cache lacks.
 */
export async function executeRepair(c: Collection, plan: RepairPlan, embed: (texts: string[]) => Promise<Float32Array[]>): Promise<void> {
  if (!c.writable) throw new Error('repair needs the collection opened for writing');
  const dims = c.manifest.model.dims;
  const segs = new Map(c.db.segments().map((s) => [s.id, s]));
  for (const sp of plans.get(plan) ?? []) {
    const vectors = Array.from({ length: sp.seg.count }, () => new Float32Array(dims));
    const cachedRows = sp.rows.filter((r) => r.from);
    await c.gatherVectors(
      cachedRows.map((r, i) => ({ id: i, segment: r.from!.segment, row: r.from!.row })),
      segs,
      (i, v) => vectors[cachedRows[i].row].set(v),
    );
    for (const r of sp.rows) if (r.vector) vectors[r.row].set(r.vector);
    const todo = sp.rows.filter((r) => !r.from && !r.vector);
    const BATCH = 64;
    for (let i = 0; i < todo.length; i += BATCH) {
      const part = todo.slice(i, i + BATCH);
      const out = await embed(part.map((r) => r.input));
      part.forEach((r, k) => vectors[r.row].set(out[k]));
    }
    for (const r of sp.rows) {
      if (!isUnitRow(vectors[r.row], 0, dims)) throw new Error(`re-derived row ${r.row} of ${sp.seg.file} is not a finite unit vector; the model output is wrong, nothing was changed`);
    }
    const file = `seg-${String(c.db.nextSegmentId()).padStart(6, '0')}.f32`;
    const { sha256 } = await writeSegment(join(c.paths.vectors, file), vectors, dims);
    c.db.transaction(() => {
      const id = c.db.insertSegment({ file, count: sp.seg.count, dims, sha256 });
      c.db.db.prepare('UPDATE chunks SET segment = ? WHERE segment = ?').run(id, sp.seg.id);
      c.db.db.prepare('DELETE FROM segments WHERE id = ?').run(sp.seg.id);
    });
    await unlink(join(c.paths.vectors, sp.seg.file)).catch(() => undefined);
  }
  if (plan.actions.some((a) => a.kind === 'rebuild-ann-index')) await updateCollectionIndex(c, { rebuild: true });
  if (plan.actions.some((a) => a.kind === 'rebuild-bm25-index')) await updateLexicalIndex(c, { rebuild: true });
}
