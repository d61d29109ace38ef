import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { indexPaths } from '../src/api/index-paths.js';
import { ingestInto, type IndexProgress } from '../src/api/ingest.js';
import { versions } from '../src/api/versions.js';
import { createProgressBar, showIngestProgress } from '../src/cli/progress.js';
import type { Embedder } from '../src/embed/embedder.js';
import { CollectionLockedError, DiskFullError, IndexInterruptedError, PathNotFoundError } from '../src/errors.js';
import { loadPaths } from '../src/ingest/index.js';
import { Collection } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
let src: string;
before(async () => {
  dir = await tempDir('quarry-edges-');
  embedder = await HashEmbedder.create();
  src = join(dir.path, 'src');
  await mkdir(src);
  for (let i = 0; i < 12; i++) {
    await writeFile(join(src, `doc-${String(i).padStart(2, '0')}.txt`), Array.from({ length: 40 }, (_, j) => `File ${i} sentence ${j} about subject ${(i + j) % 7}.`).join(' '));
  }
});
after(async () => {
  await dir.cleanup();
});

const data = () => join(dir.path, 'data');
const opts = (collection: string) => ({ dataDir: data(), collection, embedder });

/** Every live document has exactly its recorded number of chunks: nothing half written is visible. */
async function assertWholeDocuments(collection: string): Promise<number> {
  const c = await Collection.open(data(), collection, 'read');
  try {
    const head = c.pinHead();
    const docs = c.db.liveDocuments(head);
    for (const d of docs) assert.equal(c.db.docChunks(d.doc_id, d.version).length, d.chunk_count, `${d.doc_id} is whole`);
    return docs.length;
  } finally {
    await c.close();
  }
}

test('a path that does not exist is a typed error, and nothing is created (no collection, no data folder)', async () => {
  const where = join(dir.path, 'never-made');
  await assert.rejects(indexPaths([join(dir.path, 'no', 'such', 'path')], { dataDir: where, embedder }), (e: unknown) => {
    assert.ok(e instanceof PathNotFoundError);
    assert.equal(e.category, 'not-found');
    assert.match(e.message, /no[/\\]such[/\\]path does not exist; nothing was indexed and nothing was created/);
    return true;
  });
  await assert.rejects(indexPaths(['/no/such/a', '/no/such/b.txt'], { dataDir: where, embedder }), /none of the paths to index exist/);
  assert.equal(existsSync(where), false);
  // one missing path among others is reported and skipped; the run goes on
  const r = await indexPaths([join(src, 'doc-00.txt'), '/no/such/c.txt'], opts('some-missing'));
  assert.equal(r.documentsAdded, 1);
  assert.deepEqual(r.problems.map((p) => p.path), ['/no/such/c.txt']);
});

test('progress on one large file moves with the chunks committed, before the file is finished', async () => {
  const big = join(dir.path, 'big.txt');
  const para = (i: number) => `Paragraph ${i}. ` + Array.from({ length: 30 }, (_, j) => `Word${(i * 31 + j) % 997} éà`).join(' ') + '\n\n';
  await writeFile(big, Array.from({ length: 400 }, (_, i) => para(i)).join(''));
  const seen: IndexProgress[] = [];
  const r = await indexPaths([big], { ...opts('progress'), batchChunks: 8, load: { sectionChars: 4096 }, onProgress: (p) => seen.push(p) });
  const within = seen.filter((p) => p.documents === 0 && p.bytesDone > 0);
  assert.ok(within.length >= 10, `progress moved ${within.length} times inside the file`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].bytesDone >= seen[i - 1].bytesDone, 'progress never goes back');
  assert.ok(within.every((p) => p.bytesDone <= p.bytesTotal));
  // evenly: halfway through the chunks is about halfway through the bytes
  const half = within.find((p) => p.chunks >= r.chunksWritten / 2)!;
  assert.ok(Math.abs(half.bytesDone / half.bytesTotal - 0.5) < 0.1, `at half the chunks, ${half.bytesDone}/${half.bytesTotal} bytes`);
  const last = seen.at(-1)!;
  assert.equal(last.bytesDone, last.bytesTotal);
  assert.equal(last.documents, 1);
});

test('the progress bar shows a real ETA once work is measured, and "--" before (never "NFs")', async () => {
  const out = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
  out.isTTY = true;
  out.columns = 200;
  let text = '';
  out.on('data', (d) => (text += d));
  const bar = createProgressBar('indexing', true, out);
  const show = showIngestProgress(bar);
  show({ bytesDone: 0, bytesTotal: 10_000_000, documents: 0, chunks: 0 });
  assert.match(text, /ETA --/);
  assert.doesNotMatch(text, /NF/);
  for (let i = 1; i <= 4; i++) {
    await new Promise((r) => setTimeout(r, 60));
    show({ bytesDone: i * 100_000, bytesTotal: 10_000_000, documents: 0, chunks: i * 10 });
  }
  bar.stop();
  const last = text.split(/\r|\x1b\[\d*G/).filter((l) => l.includes('ETA')).at(-1)!;
  assert.match(last, /4% \| 0\.4\/10\.0 MB \| 0 docs \| 40 chunks \| ETA (\d+s|\d+m\d+s)/);
  assert.doesNotMatch(text, /NF/);
});

test('an abort between batches seals what was committed as one version and says so; nothing partial is visible', async () => {
  const stop = new AbortController();
  let acked = 0;
  await assert.rejects(
    indexPaths([src], {
      ...opts('stopped'),
      batchChunks: 3,
      signal: stop.signal,
      onCommit: (docs) => {
        acked += docs.length;
        if (acked >= 3) stop.abort('SIGINT');
      },
    }),
    (e: unknown) => {
      assert.ok(e instanceof IndexInterruptedError);
      assert.equal(e.committed.version, 1);
      assert.equal(e.committed.madeByThisRun, true);
      assert.equal(e.committed.documents, acked);
      assert.match(e.message, /^stopped by SIGINT: version 1 of collection "stopped" holds the \d+ document\(s\) this run committed; no partly written document is visible/);
      return true;
    },
  );
  const list = await versions(opts('stopped'));
  assert.deepEqual(list.map((v) => v.version), [1]);
  assert.equal(list[0].documents, acked);
  assert.equal(await assertWholeDocuments('stopped'), acked);
  assert.equal((await check(opts('stopped'))).ok, true);

  // stopped before anything was committed: the collection stays at its version
  const early = new AbortController();
  early.abort('SIGTERM');
  await assert.rejects(indexPaths([src], { ...opts('stopped'), signal: early.signal }), (e: unknown) => {
    assert.ok(e instanceof IndexInterruptedError);
    assert.equal(e.committed.madeByThisRun, false);
    assert.match(e.message, /^stopped by SIGTERM: nothing was committed; collection "stopped" stays at version 1 and nothing partial is visible/);
    return true;
  });
  assert.deepEqual((await versions(opts('stopped'))).map((v) => v.version), [1]);

  // and the run can simply be repeated to finish
  const rest = await indexPaths([src], opts('stopped'));
  assert.equal(rest.documentsUnchanged, acked);
  assert.equal(rest.documentsAdded, 12 - acked);
});

/** An embedder whose document batches wait for a gate (the probes of the fingerprint too, if `gateProbes`). */
class GatedEmbedder implements Embedder {
  private opened!: () => void;
  readonly open = new Promise<void>((r) => (this.opened = r));
  private entered!: () => void;
  /** Resolves when the first gated call is waiting. */
  readonly waiting = new Promise<void>((r) => (this.entered = r));
  constructor(
    private readonly inner: HashEmbedder,
    private readonly gateFirstCall: boolean,
  ) {}
  get identity() {
    return this.inner.identity;
  }
  get dims() {
    return this.inner.dims;
  }
  get tokenizer() {
    return this.inner.tokenizer;
  }
  private calls = 0;
  async embed(texts: string[]): Promise<Float32Array[]> {
    // call 1 computes the fingerprint's probes; later calls embed documents
    if (this.calls++ > 0 || this.gateFirstCall) {
      this.entered();
      await this.open;
    }
    return this.inner.embed(texts);
  }
  embedQuery(text: string): Promise<Float32Array> {
    return this.inner.embedQuery(text);
  }
  async close(): Promise<void> {}
  release(): void {
    this.opened();
  }
}

test('two runs creating the same new collection at once: the second is told another process is writing it', async () => {
  const second = new GatedEmbedder(embedder, true); // waits after deciding the collection is new
  const first = new GatedEmbedder(embedder, false); // creates it, then waits while holding its lock
  const late = indexPaths([src], { ...opts('race'), embedder: second });
  await second.waiting;
  const early = indexPaths([src], { ...opts('race'), embedder: first });
  await first.waiting;
  second.release();
  await assert.rejects(late, (e: unknown) => {
    assert.ok(e instanceof CollectionLockedError, String(e));
    assert.match(e.message, /collection "race" is being written by another process/);
    return true;
  });
  first.release();
  const r = await early;
  assert.equal(r.documentsAdded, 12);
  // no stray folders or locks are left beside the collection
  assert.deepEqual((await readdir(data())).filter((n) => n.startsWith('race')), ['race']);
});

/** Makes every file opened for writing under `dir` fail as on a full disk (the fs seam: Node's own module exports). */
function fillDisk(under: string): () => void {
  const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
  const original = fsp.open;
  fsp.open = (async (path: Parameters<typeof original>[0], flags?: Parameters<typeof original>[1], mode?: Parameters<typeof original>[2]) => {
    if (String(path).startsWith(under) && flags !== undefined && flags !== 'r') {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${String(path)}'`), { code: 'ENOSPC', errno: -28, syscall: 'open', path: String(path) });
    }
    return original(path, flags, mode);
  }) as typeof original;
  syncBuiltinESMExports();
  return () => {
    fsp.open = original;
    syncBuiltinESMExports();
  };
}

test('a full disk while writing vectors names the path and says nothing was committed', async () => {
  await indexPaths([join(src, 'doc-00.txt')], opts('full'));
  const vectors = join(data(), 'full', 'vectors');
  const restore = fillDisk(vectors);
  try {
    await assert.rejects(indexPaths([src], opts('full')), (e: unknown) => {
      assert.ok(e instanceof DiskFullError, String(e));
      assert.equal(e.category, 'unavailable');
      assert.match(e.path, /full[/\\]vectors[/\\]seg-\d+\.f32$/);
      assert.match(e.message, /^no space left on the device holding .*seg-\d+\.f32: the write in progress was not committed; nothing was committed; collection "full" stays at version 1/);
      return true;
    });
  } finally {
    restore();
  }
  assert.deepEqual((await versions(opts('full'))).map((v) => v.version), [1]);
  assert.equal((await check(opts('full'))).ok, true);
});

test('a full disk in SQLite (SQLITE_FULL) names the database file; a new collection on a full disk is not created', async () => {
  await indexPaths([join(src, 'doc-00.txt')], opts('sqlfull'));
  const c = await Collection.open(data(), 'sqlfull', 'write');
  try {
    const pages = c.db.db.pragma('page_count', { simple: true }) as number;
    c.db.db.pragma(`max_page_count = ${pages}`); // the database cannot grow: SQLite answers SQLITE_FULL
    const source = { items: () => loadPaths([src]), bytesTotal: async () => 0, note: 'test' };
    await assert.rejects(ingestInto(c, embedder, source, {}), (e: unknown) => {
      assert.ok(e instanceof DiskFullError, String(e));
      assert.equal(e.path, c.paths.db);
      assert.match(e.message, /meta\.sqlite: the write in progress was not committed; nothing was committed; collection "sqlfull" stays at version 1/);
      return true;
    });
  } finally {
    await c.close();
  }
  assert.deepEqual((await versions(opts('sqlfull'))).map((v) => v.version), [1]);

  const restore = fillDisk(data());
  try {
    await assert.rejects(indexPaths([src], opts('never')), (e: unknown) => {
      assert.ok(e instanceof DiskFullError, String(e));
      assert.match(e.message, /collection "never" was not created/);
      return true;
    });
  } finally {
    restore();
  }
  assert.deepEqual((await readdir(data())).filter((n) => n.startsWith('never')), []);
});
