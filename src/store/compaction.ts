import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Collection } from './collection.js';
import { dropTier2Cache } from './tier2-cache.js';
import { readSegment, writeSegment } from './vector-segments.js';

export interface CompactionReport {
  segmentsRewritten: number;
  vectorsKept: number;
  vectorsDropped: number;
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Reclaims disk space: vector segments holding rows no chunk refers to any more (deleted
 * documents, old versions dropped by gc) are rewritten into one new segment with only the
 * rows still referenced; chunk rows are re-pointed in the same transaction; the old files
 * are deleted after the commit (a reader that raced with it retries on a fresh snapshot).
 * Then SQLite is vacuumed, and the tier-2 vector cache (derived, refilled on demand) dropped.
 */
export async function compact(c: Collection): Promise<CompactionReport> {
  const before = await c.diskUsage();
  const db = c.db.db;
  const dims = c.manifest.model.dims;
  const used = db.prepare('SELECT segment, row FROM chunks GROUP BY segment, row ORDER BY segment, row').all() as Array<{ segment: number; row: number }>;
  const usedBySeg = new Map<number, number[]>();
  for (const u of used) {
    let rows = usedBySeg.get(u.segment);
    if (!rows) usedBySeg.set(u.segment, (rows = []));
    rows.push(u.row);
  }
  const segments = c.db.segments();
  const dirty = segments.filter((s) => (usedBySeg.get(s.id)?.length ?? 0) < s.count);
  let kept = 0;
  let dropped = 0;
  if (dirty.length > 0) {
    const vectors: Float32Array[] = [];
    const moves: Array<{ segment: number; row: number; to: number }> = [];
    for (const seg of dirty) {
      const rows = usedBySeg.get(seg.id) ?? [];
      dropped += seg.count - rows.length;
      if (rows.length === 0) continue;
      const data = await readSegment(join(c.paths.vectors, seg.file), seg, c.name);
      for (const row of rows) {
        moves.push({ segment: seg.id, row, to: vectors.length });
        vectors.push(data.slice(row * dims, (row + 1) * dims));
      }
    }
    kept = vectors.length;
    let file: string | undefined;
    let sha256 = '';
    if (vectors.length > 0) {
      file = `seg-${String(c.db.nextSegmentId()).padStart(6, '0')}.f32`;
      sha256 = (await writeSegment(join(c.paths.vectors, file), vectors, dims)).sha256;
    }
    c.db.transaction(() => {
      const newId = file ? c.db.insertSegment({ file, count: vectors.length, dims, sha256 }) : 0;
      const move = db.prepare('UPDATE chunks SET segment = ?, row = ? WHERE segment = ? AND row = ?');
      for (const m of moves) move.run(newId, m.to, m.segment, m.row);
      const retire = db.prepare('UPDATE segments SET retired_at = ? WHERE id = ?');
      const now = new Date().toISOString();
      for (const s of dirty) retire.run(now, s.id);
    });
  }
  // Retired segments (from this run or an earlier one that crashed before deleting them).
  const retired = db.prepare('SELECT id, file FROM segments WHERE retired_at IS NOT NULL').all() as Array<{ id: number; file: string }>;
  for (const r of retired) await unlink(join(c.paths.vectors, r.file)).catch(() => undefined);
  c.db.transaction(() => {
    const del = db.prepare('DELETE FROM segments WHERE id = ?');
    for (const r of retired) del.run(r.id);
  });
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  await dropTier2Cache(c.paths.dir);
  const after = await c.diskUsage();
  return { segmentsRewritten: dirty.length, vectorsKept: kept, vectorsDropped: dropped, bytesBefore: before.total, bytesAfter: after.total };
}
