import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { VectorSource } from '../index/vector-index.js';
import { CollectionCorruptError } from '../errors.js';
import { UNIT_TOLERANCE, type SegmentRecord } from './vector-segments.js';
import type { VectorRef } from './metadata-db.js';

/**
 * Full-precision vectors read from the segment files on demand (positioned reads), for
 * indexes that keep only compressed codes in memory (IVF-PQ's refine step): the memory
 * saving holds, and the OS page cache keeps hot rows fast.
 */
export class SegmentVectorSource implements VectorSource {
  private readonly where = new Map<number, VectorRef>();
  private readonly fds = new Map<number, number>();
  private readonly row: Buffer;

  constructor(
    readonly dims: number,
    refs: VectorRef[],
    private readonly segments: Map<number, SegmentRecord>,
    private readonly dir: string,
    private readonly collection = 'unknown',
  ) {
    for (const r of refs) this.where.set(r.id, r);
    this.row = Buffer.alloc(dims * 4);
  }

  add(refs: VectorRef[]): void {
    for (const r of refs) this.where.set(r.id, r);
  }

  fetch(ids: ArrayLike<number>, out: Float32Array): void {
    const dims = this.dims;
    for (let i = 0; i < ids.length; i++) {
      const ref = this.where.get(ids[i]);
      if (!ref) throw new Error(`no stored vector for chunk ${ids[i]}`);
      const got = readSync(this.fd(ref.segment), this.row, 0, dims * 4, ref.row * dims * 4);
      let norm = 0;
      for (let j = 0; j < dims; j++) {
        const x = this.row.readFloatLE(j * 4);
        out[i * dims + j] = x;
        norm += x * x;
      }
      // The segment was verified when the reader loaded; a row read later is checked again,
      // cheaply, so a file damaged since cannot re-rank results with garbage.
      if (got !== dims * 4 || !Number.isFinite(norm) || Math.abs(norm - 1) > UNIT_TOLERANCE) {
        const file = this.segments.get(ref.segment)?.file ?? `segment ${ref.segment}`;
        throw new CollectionCorruptError(this.collection, `row ${ref.row} of vector segment ${file} (chunk ${ids[i]}) is not a finite unit vector`, {
          file: join(this.dir, file),
          remedy: `re-derive it with \`quarry repair --collection ${this.collection}\``,
        });
      }
    }
  }

  private fd(segment: number): number {
    let fd = this.fds.get(segment);
    if (fd === undefined) {
      const seg = this.segments.get(segment);
      if (!seg) throw new Error(`vector segment ${segment} is not recorded`);
      fd = openSync(join(this.dir, seg.file), 'r');
      this.fds.set(segment, fd);
    }
    return fd;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
