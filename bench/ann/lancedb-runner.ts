/**
 * LanceDB's Node package as a peer: the same vectors written as a Lance table (id, vector),
 * then the index that matches each configuration, with the same nlist / nprobe / refine / M /
 * efConstruction / efSearch where its API has them:
 *   flat   -> no index, exhaustive scan (bypassVectorIndex)
 *   ivf    -> IVF_FLAT (dot)           nprobes(nprobe)
 *   ivfpq  -> IVF_PQ (dot, m, 8 bits)  nprobes(nprobe), refineFactor(refine / k)
 *   hnsw   -> i8 only: IVF_HNSW_SQ with one partition (8-bit scalar quantization); the Node API
 *             has no HNSW over raw float32 vectors (only hnswSq and hnswPq), so hnsw-f32 has no
 *             LanceDB row.
 * Queries are awaited one at a time, as a Node caller would issue them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { K, type AnnConfig, type SearchPoint } from './configs.js';
import type { Dataset } from './dataset.js';
import { elapsed, measurePoint, pathBytes, settledRss, type SystemResult } from './measure.js';
import { benchCacheDir, lancedbPeerDir } from './paths.js';

/*
 * LanceDB is not a dependency of quarry (see lancedb-peer/package.json): run.ts installs it
 * into the bench cache and this runner loads it from there, so the few types used here are
 * declared locally instead of imported.
 */
type Arrow = any;
interface LanceIndex {
  readonly __brand?: 'Index';
}
interface LanceQuery {
  distanceType(t: string): LanceQuery;
  limit(n: number): LanceQuery;
  select(cols: string[]): LanceQuery;
  bypassVectorIndex(): LanceQuery;
  nprobes(n: number): LanceQuery;
  refineFactor(n: number): LanceQuery;
  ef(n: number): LanceQuery;
  toArray(): Promise<unknown[]>;
}
interface LanceTable {
  vectorSearch(q: Float32Array): LanceQuery;
  createIndex(column: string, opts: { config: LanceIndex }): Promise<void>;
  listIndices(): Promise<Array<{ indexType: string; columns: string[] }>>;
  countRows(): Promise<number>;
  close(): void;
}
interface LanceDb {
  connect(uri: string): Promise<{ createTable(name: string, data: unknown, opts: { mode: string }): Promise<LanceTable>; close(): void }>;
  Index: {
    ivfFlat(o: object): LanceIndex;
    ivfPq(o: object): LanceIndex;
    hnswSq(o: object): LanceIndex;
  };
}

async function loadPeer(): Promise<{ lancedb: LanceDb; arrow: Arrow }> {
  const req = createRequire(join(lancedbPeerDir(), 'package.json'));
  const load = async (name: string) => import(pathToFileURL(req.resolve(name)).href);
  let lancedb: LanceDb;
  try {
    lancedb = (await load('@lancedb/lancedb')) as LanceDb;
  } catch (e) {
    throw new Error(`LanceDB peer is not installed in ${lancedbPeerDir()} (npm run bench:ann installs it): ${(e as Error).message}`);
  }
  // the apache-arrow that LanceDB itself resolves, so its instanceof checks hold
  return { lancedb, arrow: await load('apache-arrow') };
}

const WRITE_BATCH = 32_768;

/** The base vectors as an Arrow table, without copying them (Arrow data over our Float32Array). */
function arrowTable(arrow: Arrow, ds: Dataset): Arrow {
  const { Field, FixedSizeList, Float32, Int32, makeData, RecordBatch, Schema, Struct, Table: ArrowTable } = arrow;
  const d = ds.info.dims;
  const itemField = new Field('item', new Float32(), true);
  const fields = [new Field('id', new Int32(), false), new Field('vector', new FixedSizeList(d, itemField), false)];
  const schema = new Schema(fields);
  const batches: Arrow[] = [];
  for (let start = 0; start < ds.info.nBase; start += WRITE_BATCH) {
    const n = Math.min(WRITE_BATCH, ds.info.nBase - start);
    const ids = makeData({ type: new Int32(), length: n, data: ds.baseIds.subarray(start, start + n) });
    const values = makeData({ type: new Float32(), length: n * d, data: ds.base.subarray(start * d, (start + n) * d) });
    const vectors = makeData({ type: new FixedSizeList(d, itemField), length: n, nullCount: 0, child: values });
    const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [ids, vectors] });
    batches.push(new RecordBatch(schema, struct));
  }
  return new ArrowTable(schema, batches);
}

function indexFor(lancedb: LanceDb, cfg: AnnConfig, sampleRows: number): LanceIndex | undefined {
  const b = cfg.build;
  // sampleRate x numPartitions = the training sample the other systems get
  const sampleRate = b.nlist ? Math.max(1, Math.round(sampleRows / b.nlist)) : undefined;
  switch (cfg.kind) {
    case 'flat':
      return undefined;
    case 'ivf':
      return lancedb.Index.ivfFlat({ numPartitions: b.nlist, distanceType: 'dot', sampleRate });
    case 'ivfpq':
      return lancedb.Index.ivfPq({ numPartitions: b.nlist, numSubVectors: b.m, numBits: b.bits, distanceType: 'dot', sampleRate });
    case 'hnsw':
      return lancedb.Index.hnswSq({ numPartitions: 1, m: b.M, efConstruction: b.efConstruction, distanceType: 'dot' });
  }
}

function searchFn(cfg: AnnConfig, table: LanceTable, p: SearchPoint): (q: Float32Array) => Promise<number[]> {
  return async (q) => {
    let query = table.vectorSearch(q).distanceType('dot').limit(K).select(['id', '_distance']);
    if (cfg.kind === 'flat') query = query.bypassVectorIndex();
    if (p.nprobe !== undefined) query = query.nprobes(p.nprobe);
    if (p.refine !== undefined) query = query.refineFactor(Math.max(1, Math.round(p.refine / K)));
    if (p.efSearch !== undefined) query = query.ef(p.efSearch);
    const rows = (await query.toArray()) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  };
}

export async function runLanceDb(cfg: AnnConfig, ds: Dataset): Promise<SystemResult> {
  const result: SystemResult = { system: 'lancedb', config: cfg.id, available: true, points: [], notes: [] };
  if (cfg.kind === 'hnsw' && cfg.build.quantization !== 'i8') {
    return {
      ...result,
      available: false,
      reason: 'LanceDB Node API has HNSW only over quantized vectors (Index.hnswSq / hnswPq); its hnsw-i8 row uses IVF_HNSW_SQ',
    };
  }
  const { lancedb, arrow } = await loadPeer();
  const dir = mkdtempSync(join(benchCacheDir(), 'tmp-lancedb-'));
  try {
    const data = arrowTable(arrow, ds);
    const rss0 = settledRss();
    const t0 = performance.now();
    const db = await lancedb.connect(dir);
    const table = await db.createTable('wiki', data, { mode: 'overwrite' });
    const writeMs = elapsed(t0);
    const index = indexFor(lancedb, cfg, ds.info.trainSample);
    let indexMs = 0;
    if (index) {
      const t1 = performance.now();
      await table.createIndex('vector', { config: index });
      indexMs = elapsed(t1);
      const indices = await table.listIndices();
      result.built = indices.map((i) => `${i.indexType} on ${i.columns.join(',')}`).join('; ');
    } else {
      result.built = 'no index: exhaustive scan (bypassVectorIndex)';
    }
    result.buildMs = writeMs + indexMs;
    result.trainMs = indexMs;
    result.notes.push(`build = table write ${(writeMs / 1000).toFixed(1)} s + index ${(indexMs / 1000).toFixed(1)} s`);
    const rows = await table.countRows();
    if (rows !== ds.info.nBase) throw new Error(`LanceDB table holds ${rows} rows, expected ${ds.info.nBase}`);
    for (const point of cfg.points) {
      result.points.push(await measurePoint(ds, point, searchFn(cfg, table, point)));
      // after the first point's queries LanceDB has its index in its cache
      if (result.rssDeltaBytes === undefined) result.rssDeltaBytes = settledRss() - rss0;
    }
    const indexDir = join(dir, 'wiki.lance', '_indices');
    result.diskBytes = pathBytes(join(dir, 'wiki.lance'));
    if (index) {
      // LanceDB reports no memory figure; it caches an index's files whole once searched
      result.memoryBytes = pathBytes(indexDir);
      result.notes.push('memory = size of its index files; disk = the table with its float32 vectors plus the index');
    }
    result.notes.push('RSS Δ taken after the first search point (index cached; includes its runtime thread pools)');
    table.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
