import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IndexFileError, readIndexFile, writeIndexFile } from '../src/index/index-file.js';
import { tempDir } from './support/env.js';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

test('empty payload parts are written and read back with a valid checksum', async () => {
  const p = join(dir.path, 'x.qidx');
  const header = { type: 'ivf' as const, dims: 4, count: 0, params: { nlist: 2 } };
  await writeIndexFile(p, header, [new Uint8Array(0), Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from([4])]);
  const { header: h, payload } = await readIndexFile(p, 'ivf');
  assert.deepEqual([...payload], [1, 2, 3, 4]);
  assert.equal(h.dims, 4);
  await writeIndexFile(p, header, [new Uint8Array(0)]);
  assert.equal((await readIndexFile(p)).payload.length, 0);
});

test('a file that is not an index, or of another type, is refused with IndexFileError', async () => {
  const p = join(dir.path, 'junk.qidx');
  await writeFile(p, 'not an index at all, just text');
  await assert.rejects(readIndexFile(p), IndexFileError);
  const q = join(dir.path, 'flat.qidx');
  await writeIndexFile(q, { type: 'flat', dims: 2, count: 0, params: {} }, []);
  await assert.rejects(readIndexFile(q, 'hnsw'), IndexFileError);
});
