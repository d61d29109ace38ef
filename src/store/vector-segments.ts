import { createHash } from 'node:crypto';
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

/** Reads a segment, checking its size always and its sha256 when asked (integrity checks). */
export async function readSegment(path: string, seg: SegmentRecord, collection: string, verifyHash = false): Promise<Float32Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CollectionCorruptError(collection, `vector segment ${seg.file} is missing`, { file: path });
  }
  const expected = seg.count * seg.dims * 4;
  if (size !== expected) {
    throw new CollectionCorruptError(collection, `vector segment ${seg.file} has ${size} bytes, expected ${expected} (truncated?)`, {
      file: path,
    });
  }
  const buf = await readFile(path);
  if (verifyHash) {
    const sha = createHash('sha256').update(buf).digest('hex');
    if (sha !== seg.sha256) {
      throw new CollectionCorruptError(collection, `vector segment ${seg.file} does not match its recorded sha256`, { file: path });
    }
  }
  // Copy into an aligned buffer: Node's pooled Buffers may start at an unaligned offset.
  const out = new Float32Array(expected / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
