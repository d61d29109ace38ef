/**
 * Raw usearch, no quarry wrapper: the baseline quarry's HNSW is held to (within 1.2x of its
 * latency). Same M / efConstruction / quantization and data. usearch fixes expansion_search
 * when an Index is constructed, so the graph is built once, saved, and loaded into a fresh
 * Index per efSearch. Adds use every core (threads = 0); each search one thread (threads = 1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import usearch from 'usearch';
import type { AnnConfig } from './configs.js';
import { K } from './configs.js';
import type { Dataset } from './dataset.js';
import { elapsed, measurePoint, pathBytes, settledRss, type SystemResult } from './measure.js';
import { benchCacheDir } from './paths.js';

export async function runUsearch(cfg: AnnConfig, ds: Dataset): Promise<SystemResult> {
  const result: SystemResult = { system: 'usearch', config: cfg.id, available: true, points: [], notes: [] };
  if (cfg.kind !== 'hnsw') return { ...result, available: false, reason: 'raw usearch rows are for HNSW only' };
  const { dims, nBase } = ds.info;
  const quant = cfg.build.quantization === 'i8' ? usearch.ScalarKind.I8 : usearch.ScalarKind.F32;
  const make = (ef: number) =>
    new usearch.Index({
      dimensions: dims,
      metric: usearch.MetricKind.IP,
      quantization: quant,
      connectivity: cfg.build.M ?? 16,
      expansion_add: cfg.build.efConstruction ?? 128,
      expansion_search: ef,
      multi: false,
    });
  const keys = BigUint64Array.from(ds.baseIds, (r) => BigInt(r));
  const rss0 = settledRss();
  const t0 = performance.now();
  const index = make(cfg.points[0].efSearch ?? 64);
  index.add(keys, ds.base, 0);
  result.buildMs = elapsed(t0);
  result.rssDeltaBytes = settledRss() - rss0;
  result.built = `usearch.Index(ip, ${quant}, connectivity ${cfg.build.M}, expansion_add ${cfg.build.efConstruction}), ${index.size()} vectors`;
  if (index.size() !== nBase) throw new Error(`usearch holds ${index.size()} vectors, expected ${nBase}`);
  const dir = mkdtempSync(join(benchCacheDir(), 'tmp-usearch-'));
  try {
    const file = join(dir, 'hnsw.usearch');
    index.save(file);
    result.diskBytes = pathBytes(file);
    result.memoryBytes = result.diskBytes;
    result.notes.push('memoryBytes = size of the saved index (usearch reports no memory figure); adds on all cores, searches on 1 thread');
    for (const point of cfg.points) {
      const idx = make(point.efSearch ?? 64);
      idx.load(file);
      result.points.push(
        await measurePoint(ds, point, (q) => {
          const m = idx.search(q, K, 1);
          return Array.from(m.keys, Number);
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
