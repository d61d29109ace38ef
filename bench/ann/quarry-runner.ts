/**
 * quarry's own indexes, built through the registry exactly as the product builds them:
 * createIndex(type, dims, params), train() on the shared sample when needsTraining, add() in
 * batches, save(). IVF-PQ refines from a VectorSource that reads full-precision rows from the
 * cached vector file on disk (fs.readSync at row offsets), the way quarry reads them from its
 * vector segments, so its memory figure holds codes, lists and centroids only.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import usearch from 'usearch';
import { extractPayload } from '../../src/index/index-file.js';
import { createIndex } from '../../src/index/registry.js';
import type { IndexType, SearchParams, VectorIndex, VectorSource } from '../../src/index/vector-index.js';
import { K, type AnnConfig } from './configs.js';
import { trainingSample, type Dataset } from './dataset.js';
import { elapsed, measurePaired, measurePoint, pathBytes, settledRss, type SystemResult } from './measure.js';
import { benchCacheDir } from './paths.js';
import { VECTORS_DIR } from './vectors.js';

const ADD_BATCH = 16_384;

/** Full-precision rows by corpus row id, read from vectors.f32 (row i at byte i * dims * 4). */
export class FileVectorSource implements VectorSource {
  private readonly fd: number;
  private readonly rowBytes: number;
  constructor(readonly dims: number, path = join(VECTORS_DIR, 'vectors.f32')) {
    this.fd = openSync(path, 'r');
    this.rowBytes = dims * 4;
  }
  fetch(ids: ArrayLike<number>, out: Float32Array): void {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, ids.length * this.rowBytes);
    for (let i = 0; i < ids.length; i++) {
      const got = readSync(this.fd, bytes, i * this.rowBytes, this.rowBytes, ids[i] * this.rowBytes);
      if (got !== this.rowBytes) throw new Error(`vector file has no row ${ids[i]}`);
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** The IVF modules register their types with the registry when they load. */
async function loadIndexModules(): Promise<void> {
  await import('../../src/index/ivf-index.js');
  await import('../../src/index/ivfpq-index.js');
}

function paramsFor(cfg: AnnConfig, source: VectorSource | undefined): Record<string, unknown> {
  const b = cfg.build;
  switch (cfg.kind) {
    case 'flat':
      return {};
    case 'ivf':
      return { nlist: b.nlist };
    case 'ivfpq':
      return { nlist: b.nlist, pqM: b.m, pqBits: b.bits, source };
    case 'hnsw':
      return { connectivity: b.M, expansionAdd: b.efConstruction, quantization: b.quantization };
  }
}

export async function runQuarry(cfg: AnnConfig, ds: Dataset): Promise<SystemResult> {
  const result: SystemResult = { system: 'quarry', config: cfg.id, available: true, points: [], notes: [] };
  await loadIndexModules();
  const { dims, nBase } = ds.info;
  const source = cfg.kind === 'ivfpq' ? new FileVectorSource(dims) : undefined;
  const sample = cfg.kind === 'ivf' || cfg.kind === 'ivfpq' ? trainingSample(ds) : undefined;
  const dir = mkdtempSync(join(benchCacheDir(), 'tmp-quarry-'));
  try {
    const rss0 = settledRss();
    const t0 = performance.now();
    const index: VectorIndex = createIndex(cfg.kind as IndexType, dims, paramsFor(cfg, source));
    if (index.needsTraining) {
      if (!sample) throw new Error(`${cfg.kind} needs training but has no sample`);
      index.train(sample, sample.length / dims);
      result.trainMs = elapsed(t0);
    }
    for (let start = 0; start < nBase; start += ADD_BATCH) {
      const end = Math.min(start + ADD_BATCH, nBase);
      index.add(ds.baseIds.subarray(start, end), ds.base.subarray(start * dims, end * dims));
    }
    result.buildMs = elapsed(t0);
    result.rssDeltaBytes = settledRss() - rss0;
    if (index.size !== nBase) throw new Error(`quarry ${cfg.kind} holds ${index.size} vectors, expected ${nBase}`);
    const stats = index.stats();
    result.memoryBytes = stats.memoryBytes;
    result.built = `createIndex('${cfg.kind}') ${JSON.stringify(stats.params)}`;
    const file = join(dir, `${cfg.id}.qidx`);
    await index.save(file);
    result.diskBytes = pathBytes(file);
    if (source) result.notes.push('refine reads float32 rows from the vector file on disk (page cache), not counted in memory or disk');
    if (sample) result.notes.push(`trained on ${sample.length / dims} sampled vectors`);
    for (const point of cfg.points) {
      const params: SearchParams = { ...point };
      result.points.push(await measurePoint(ds, point, (q) => index.search(q, K, params).map((h) => h.id)));
    }
    if (cfg.kind === 'hnsw') result.paired = await pairedWithRawUsearch(cfg, ds, index, file, dir);
  } finally {
    source?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * The wrapper's own cost: quarry's HNSW and a plain usearch.Index over the very same graph
 * (quarry's saved payload is a usearch file), interleaved query by query in this process.
 * The raw side is what a caller of usearch would write: expansion_search = ef, k = 10.
 */
async function pairedWithRawUsearch(cfg: AnnConfig, ds: Dataset, index: VectorIndex, file: string, dir: string): Promise<SystemResult['paired']> {
  const graph = join(dir, 'graph.usearch');
  await extractPayload(file, graph, 'hnsw');
  const out: NonNullable<SystemResult['paired']> = [];
  for (const point of cfg.points) {
    const raw = new usearch.Index({
      dimensions: ds.info.dims,
      metric: usearch.MetricKind.IP,
      quantization: cfg.build.quantization === 'i8' ? usearch.ScalarKind.I8 : usearch.ScalarKind.F32,
      connectivity: cfg.build.M ?? 16,
      expansion_add: cfg.build.efConstruction ?? 128,
      expansion_search: point.efSearch ?? 64,
      multi: false,
    });
    raw.load(graph);
    const params: SearchParams = { ...point };
    const [q, u] = measurePaired(
      ds,
      point,
      (v) => index.search(v, K, params).map((h) => h.id),
      (v) => Array.from(raw.search(v, K, 1).keys, Number),
    );
    out.push({ quarry: q, usearch: u });
  }
  return out;
}
