import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError, QuarryError } from '../src/errors.js';
import { FlatIndex } from '../src/index/flat-index.js';
import { HnswIndex } from '../src/index/hnsw-index.js';
import { IndexFileError, readIndexFile, readIndexHeader, extractPayload, writeIndexFile } from '../src/index/index-file.js';
import { createIndex, loadIndex, registerIndexType, registeredIndexTypes } from '../src/index/registry.js';
import type { IndexType } from '../src/index/vector-index.js';
import { runConformance } from './support/index-conformance.js';
import { bruteForce, clusteredVectors, row } from './support/vectors.js';

runConformance('flat', (d) => new FlatIndex(d, 16), { exact: true, load: (p) => FlatIndex.load(p) });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quarry-flat-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('flat specifics', () => {
  const dims = 32;
  const data = clusteredVectors({ count: 500, dims, seed: 3 });

  test('ties at the cut go to the smaller ids, however many there are', () => {
    const idx = new FlatIndex(dims);
    idx.add(data.ids, data.data);
    const v = row(data.queries, dims, 0);
    const dupIds = Array.from({ length: 60 }, (_, i) => 5000 - i * 7); // added in descending id order
    idx.add(dupIds, new Float32Array(Array.from({ length: 60 }, () => [...v]).flat()));
    const want = [...dupIds].sort((a, b) => a - b);
    assert.deepEqual(idx.search(v, 10).map((h) => h.id), want.slice(0, 10));
    assert.deepEqual(idx.search(v, 59).map((h) => h.id), want.slice(0, 59));
  });

  test('search reads only live rows: stale capacity and moved rows never surface', () => {
    const idx = new FlatIndex(dims, 4096);
    idx.add(data.ids, data.data);
    const q = row(data.queries, dims, 1);
    const top = idx.search(q, 20).map((h) => h.id);
    assert.equal(idx.remove(top), 20);
    const hits = idx.search(q, 1000);
    assert.equal(hits.length, data.count - 20);
    assert.equal(new Set(hits.map((h) => h.id)).size, hits.length, 'no row is returned twice');
    for (const h of hits) assert.ok(!top.includes(h.id));
    // Removing the last row and re-adding keeps the matrix dense.
    idx.add(top, data.data.subarray(0, 20 * dims));
    assert.equal(idx.size, data.count);
  });

  test('fromMatrix wraps without copying, and a query or matrix at an offset works', () => {
    const big = new Float32Array(dims + data.data.length);
    big.set(data.data, dims); // the matrix starts one row into its buffer
    const idx = FlatIndex.fromMatrix(dims, big.subarray(dims), data.ids);
    const q = row(data.queries, dims, 2);
    const qAt = new Float32Array(3 * dims);
    qAt.set(q, dims);
    const expected = bruteForce(data.data, data.ids, dims, q).slice(0, 5);
    assert.deepEqual(idx.search(qAt.subarray(dims, 2 * dims), 5).map((h) => h.id), expected.map((h) => h.id));
    const aligned = data.data.slice();
    const wrapped = FlatIndex.fromMatrix(dims, aligned, data.ids);
    aligned.fill(0, 0, dims); // visible through the index: it was not copied
    assert.notEqual(wrapped.search(row(data.data, dims, 0), 1)[0].id, data.ids[0]);
    assert.throws(() => FlatIndex.fromMatrix(dims, aligned.subarray(1), data.ids), InvalidInputError);
  });

  test('stats report memory and capacity', () => {
    const idx = new FlatIndex(dims, 100);
    idx.add(data.ids.subarray(0, 10), data.data.subarray(0, 10 * dims));
    const s = idx.stats();
    assert.equal(s.size, 10);
    assert.ok(s.memoryBytes >= 100 * dims * 4);
    assert.equal(s.params.capacity, 100);
  });
});

describe('index file format', () => {
  const header = { type: 'flat' as IndexType, dims: 3, count: 2, params: { note: 'é', n: 5 } };

  test('round trip: header, params, parts from bytes and from a file, aligned payload', async () => {
    const path = join(dir, 'fmt.qidx');
    const side = join(dir, 'part.bin');
    await writeFile(side, Buffer.from([9, 8, 7]));
    await writeIndexFile(path, header, [new Uint8Array([1, 2, 3, 4, 5]), { file: side }, new Uint8Array(0)]);
    const { header: h, payload } = await readIndexFile(path, 'flat');
    assert.deepEqual(h, header);
    assert.deepEqual([...payload], [1, 2, 3, 4, 5, 9, 8, 7]);
    assert.equal(payload.byteOffset % 8, 0);
    const info = await readIndexHeader(path);
    assert.equal(info.payloadLength, 8);
    assert.equal(info.payloadOffset % 8, 0);
    const out = join(dir, 'payload.bin');
    await extractPayload(path, out);
    assert.deepEqual([...(await readFile(out))], [1, 2, 3, 4, 5, 9, 8, 7]);
  });

  test('wrong type, newer version and a damaged header are refused', async () => {
    const path = join(dir, 'fmt2.qidx');
    await writeIndexFile(path, header, [new Uint8Array(4)]);
    await assert.rejects(readIndexFile(path, 'hnsw'), (e) => e instanceof IndexFileError && /"flat" index, expected "hnsw"/.test(e.message));
    const good = await readFile(path);
    const newer = Buffer.from(good);
    newer.writeUInt16LE(99, 4);
    await writeFile(path, newer);
    await assert.rejects(readIndexFile(path), (e) => e instanceof IndexFileError && /version 99/.test(e.message));
    const bent = Buffer.from(good);
    bent[16] ^= 1; // dims
    await writeFile(path, bent);
    await assert.rejects(readIndexHeader(path), (e) => e instanceof IndexFileError && e.category === 'integrity' && /checksum/.test(e.message));
    await assert.rejects(readIndexFile(join(dir, 'nope.qidx')), (e) => e instanceof QuarryError && e.code === 'INDEX_FILE_NOT_FOUND');
  });
});

describe('index registry', () => {
  test('creates and loads by type', async () => {
    assert.ok(registeredIndexTypes().includes('flat') && registeredIndexTypes().includes('hnsw'));
    const flat = createIndex('flat', 4);
    const hnsw = createIndex('hnsw', 4, { connectivity: 8, quantization: 'f16' });
    assert.ok(flat instanceof FlatIndex);
    assert.ok(hnsw instanceof HnswIndex);
    assert.equal(hnsw.stats().params.connectivity, 8);
    for (const idx of [flat, hnsw]) {
      idx.add([1, 2], new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
      const path = join(dir, `reg-${idx.type}.qidx`);
      await idx.save(path);
      const back = await loadIndex(path);
      assert.equal(back.type, idx.type);
      assert.equal(back.search(new Float32Array([0, 1, 0, 0]), 1)[0].id, 2);
      await assert.rejects(loadIndex(path, { type: idx.type === 'flat' ? 'hnsw' : 'flat' }), IndexFileError);
    }
    const mapped = await loadIndex(join(dir, 'reg-hnsw.qidx'), { mmap: true });
    assert.equal(mapped.stats().params.mmap, true);
  });

  test('an unknown type is a clear error; a registered one is used', async () => {
    assert.throws(() => createIndex('nope' as IndexType, 4), (e) => e instanceof InvalidInputError && /not available/.test(e.message));
    assert.throws(() => createIndex('hnsw', 4, { efSearch: 10 }), (e) => e instanceof InvalidInputError && /unknown hnsw index params: efSearch/.test(e.message));
    assert.throws(() => createIndex('flat', 4, { capacity: -1 }), InvalidInputError);
    const made: number[] = [];
    registerIndexType('nope' as IndexType, {
      create: (dims) => {
        made.push(dims);
        return new FlatIndex(dims);
      },
      load: (p) => FlatIndex.load(p),
    });
    createIndex('nope' as IndexType, 6);
    assert.deepEqual(made, [6]);
  });
});
