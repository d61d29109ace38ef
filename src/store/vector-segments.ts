import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { CollectionCorruptError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * Vectors live in append-only binary segment files: raw little-endian float32, `dims` per
 * row, no header (the segments table in the metadata database records count, dims and
 * sha256). Never JSON: 384 floats as text would be ~4x the bytes and slow to parse.
 */
export async function writeSegment(path: string, vectors: Float32Array[], dims: number): Promise<{ bytes: number; sha256: string }> {
  const buf = new Float32Array(vectors.length * dims);
  vectors.forEach((v, i) => {
    if (v.length !== dims) throw new Error(`vector ${i} has ${v.length} dimensions, expected ${dims}`);
    // a NaN or infinite vector would silently fall out of every ranking: never store one
    for (let j = 0; j < dims; j++) if (!Number.isFinite(v[j])) throw new Error(`vector ${i} has a non-finite component; the embedder produced garbage`);
    buf.set(v, i * dims);
  });
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!littleEndian()) throw new Error('quarry stores vectors little-endian; big-endian hosts are not supported');
  await writeFileAtomic(path, bytes);
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface SegmentRecord {
  id: number;
  file: string;
  count: number;
  dims: number;
  sha256: string;
}

/** What operators and the crash test can watch: every sha256 verification of a segment file. */
export interface SegmentVerification {
  path: string;
  bytes: number;
  ms: number;
}
const listeners = new Set<(v: SegmentVerification) => void>();

/** Calls `fn` after every verified segment read; returns the unsubscribe function. */
export function onSegmentVerified(fn: (v: SegmentVerification) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Every whole-segment read (readSegment), for tests that check a path reads only what it needs. */
export interface SegmentRead {
  path: string;
  bytes: number;
}
const readListeners = new Set<(r: SegmentRead) => void>();

/** Calls `fn` after every whole read of a segment file; returns the unsubscribe function. */
export function onSegmentRead(fn: (r: SegmentRead) => void): () => void {
  readListeners.add(fn);
  return () => readListeners.delete(fn);
}

/**
 * Files already verified by one reader, by path + sha256, with the file's identity when it
 * was hashed (inode, size, mtime, ctime): a reader re-reading a segment it verified (a
 * filtered search reads rows again) does not hash it again unless the file changed. A new
 * reader (the server's view after a write, every CLI run) starts with an empty memo.
 */
export type VerifiedSegments = Map<string, string>;

function identityOf(st: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function damaged(collection: string, seg: SegmentRecord, path: string, problem: string): CollectionCorruptError {
  return new CollectionCorruptError(collection, `vector segment ${seg.file} ${problem}`, {
    file: path,
    remedy: `vectors are re-derived from the stored text by \`quarry repair --collection ${collection}\` (\`--dry-run\` says what it would do first)`,
  });
}

async function sizeChecked(path: string, seg: SegmentRecord, collection: string) {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw damaged(collection, seg, path, 'is missing');
  }
  const expected = seg.count * seg.dims * 4;
  if (st.size !== expected) throw damaged(collection, seg, path, `has ${st.size} bytes, expected ${expected} (truncated?)`);
  return st;
}

function verified(path: string, bytes: number, t0: number): void {
  const v = { path, bytes, ms: performance.now() - t0 };
  for (const fn of listeners) fn(v);
}

/**
 * Reads a segment whole, checking its size and its sha256 against the one recorded when it
 * was sealed: nothing a search ranks by is trusted unread. `memo` skips the hash for a file
 * this reader already verified and that has not changed since.
 */
export async function readSegment(path: string, seg: SegmentRecord, collection: string, memo?: VerifiedSegments): Promise<Float32Array> {
  const st = await sizeChecked(path, seg, collection);
  const buf = await readFile(path);
  for (const fn of readListeners) fn({ path, bytes: buf.byteLength });
  const key = `${path}\0${seg.sha256}`;
  if (buf.byteLength !== seg.count * seg.dims * 4) throw damaged(collection, seg, path, `changed size while being read (truncated?)`);
  if (memo?.get(key) !== identityOf(st)) {
    const t0 = performance.now();
    const sha = createHash('sha256').update(buf).digest('hex');
    if (sha !== seg.sha256) throw damaged(collection, seg, path, 'does not match its recorded sha256');
    memo?.set(key, identityOf(st));
    verified(path, buf.byteLength, t0);
  }
  // Copy into an aligned buffer: Node's pooled Buffers may start at an unaligned offset.
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/**
 * Verifies a segment's size and sha256 by streaming it (readers that fetch rows on demand,
 * IVF-PQ's refine, never hold the whole file), unless `memo` says it was verified unchanged.
 */
export async function verifySegment(path: string, seg: SegmentRecord, collection: string, memo?: VerifiedSegments): Promise<void> {
  const st = await sizeChecked(path, seg, collection);
  const key = `${path}\0${seg.sha256}`;
  if (memo?.get(key) === identityOf(st)) return;
  const t0 = performance.now();
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    if (st.size <= WHOLE_READ_MAX) {
      // an ingest's segments are small (256 rows): one read each is much faster than a stream
      const buf = await readFile(path);
      hash.update(buf);
      bytes = buf.byteLength;
    } else {
      // a compacted segment can hold the whole collection: stream it
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).byteLength;
      }
    }
  } catch {
    throw damaged(collection, seg, path, 'cannot be read');
  }
  if (bytes !== st.size) throw damaged(collection, seg, path, 'changed size while being read (truncated?)');
  if (hash.digest('hex') !== seg.sha256) throw damaged(collection, seg, path, 'does not match its recorded sha256');
  memo?.set(key, identityOf(st));
  verified(path, bytes, t0);
}

/** Segments up to this size are verified with one read; larger ones are streamed. */
const WHOLE_READ_MAX = 16 << 20;

/** Tolerance on |v|² - 1 for a stored unit vector (float32 rounding stays far below it). */
export const UNIT_TOLERANCE = 1e-3;

/** Whether row `row` of `data` is a finite unit vector (the only kind quarry stores). */
export function isUnitRow(data: Float32Array, row: number, dims: number): boolean {
  let norm = 0;
  for (let j = row * dims; j < (row + 1) * dims; j++) norm += data[j] * data[j];
  return Number.isFinite(norm) && Math.abs(norm - 1) <= UNIT_TOLERANCE;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
