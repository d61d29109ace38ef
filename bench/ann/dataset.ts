/**
 * The benchmark's data: the first `n` cached passages split into 1,000 held-out queries (a
 * seeded selection) and the indexed base, with the exact top-10 by inner product as ground
 * truth. Written once per (n, seed) next to the vector cache as plain little-endian arrays,
 * so the Python peer can memory-map the same bytes:
 *
 *   base.f32        nBase x dims, row-major     base_ids.i32   corpus row of each base row
 *   queries.f32     1000 x dims                 query_rows.i32 corpus row of each query
 *   gt.i32          1000 x 10 corpus rows, best first (usearch exactSearch, inner product)
 *   train_rows.i32  positions in base of the IVF / IVF-PQ training sample
 *   split.json      sizes, seed, and the vector cache's identity it was cut from
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import usearch, { type BatchMatches } from 'usearch';
import { K, QUERY_COUNT, SPLIT_SEED, TRAIN_SAMPLE } from './configs.js';
import { loadVectors, readMeta, VECTORS_DIR } from './vectors.js';
import { prng } from '../support.js';

export interface SplitInfo {
  n: number;
  nBase: number;
  nQueries: number;
  dims: number;
  k: number;
  seed: number;
  trainSample: number;
  corpusSha256: string;
  weightsSha256: string;
  groundTruthMs: number;
}

export interface Dataset {
  dir: string;
  info: SplitInfo;
  base: Float32Array;
  baseIds: Int32Array;
  queries: Float32Array;
  queryRows: Int32Array;
  gt: Int32Array;
  trainRows: Int32Array;
}


/** `count` distinct integers in [0, n), sorted, drawn by a partial Fisher-Yates shuffle. */
export function sample(n: number, count: number, seed: number): Int32Array {
  const rand = prng(seed);
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  const m = Math.min(count, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, m).sort();
}

export function splitDir(n: number): string {
  return join(VECTORS_DIR, `split-n${n}-q${QUERY_COUNT}-s${SPLIT_SEED}`);
}

function writeArray(path: string, a: Float32Array | Int32Array): void {
  writeFileSync(path + '.tmp', new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  renameSync(path + '.tmp', path);
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function readI32(path: string): Int32Array {
  const b = readFileSync(path);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Cuts the split and computes ground truth unless a matching one is on disk. */
export function prepareSplit(n: number, log: (s: string) => void = () => {}): SplitInfo {
  const meta = readMeta();
  if (!meta || meta.done < n) throw new Error(`the vector cache holds ${meta?.done ?? 0} rows, ${n} needed`);
  const dir = splitDir(n);
  const infoPath = join(dir, 'split.json');
  if (existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as SplitInfo;
    if (info.corpusSha256 === meta.corpusSha256 && info.weightsSha256 === meta.model.weightsSha256 && info.trainSample === Math.min(TRAIN_SAMPLE, n - QUERY_COUNT)) {
      return info;
    }
  }
  mkdirSync(dir, { recursive: true });
  const { data, dims } = loadVectors(n);
  const queryRows = sample(n, QUERY_COUNT, SPLIT_SEED);
  const isQuery = new Uint8Array(n);
  for (const r of queryRows) isQuery[r] = 1;
  const nBase = n - queryRows.length;
  const base = new Float32Array(nBase * dims);
  const baseIds = new Int32Array(nBase);
  const queries = new Float32Array(queryRows.length * dims);
  let b = 0;
  let q = 0;
  for (let r = 0; r < n; r++) {
    const row = data.subarray(r * dims, (r + 1) * dims);
    if (isQuery[r]) queries.set(row, dims * q++);
    else {
      baseIds[b] = r;
      base.set(row, dims * b++);
    }
  }
  log(`ground truth: exact top-${K} of ${queryRows.length} queries over ${nBase} vectors`);
  const t0 = performance.now();
  const res = usearch.exactSearch(base, queries, dims, K, usearch.MetricKind.IP, 0) as BatchMatches;
  const groundTruthMs = performance.now() - t0;
  const gt = new Int32Array(queryRows.length * K);
  for (let i = 0; i < queryRows.length; i++) {
    const m = res.get(i);
    for (let j = 0; j < K; j++) gt[i * K + j] = baseIds[Number(m.keys[j])];
  }
  const trainSample = Math.min(TRAIN_SAMPLE, nBase);
  const trainRows = sample(nBase, trainSample, SPLIT_SEED + 1);
  writeArray(join(dir, 'base.f32'), base);
  writeArray(join(dir, 'base_ids.i32'), baseIds);
  writeArray(join(dir, 'queries.f32'), queries);
  writeArray(join(dir, 'query_rows.i32'), queryRows);
  writeArray(join(dir, 'gt.i32'), gt);
  writeArray(join(dir, 'train_rows.i32'), trainRows);
  const info: SplitInfo = {
    n,
    nBase,
    nQueries: queryRows.length,
    dims,
    k: K,
    seed: SPLIT_SEED,
    trainSample,
    corpusSha256: meta.corpusSha256,
    weightsSha256: meta.model.weightsSha256,
    groundTruthMs,
  };
  writeFileSync(infoPath + '.tmp', JSON.stringify(info, null, 2) + '\n');
  renameSync(infoPath + '.tmp', infoPath);
  return info;
}

export function loadDataset(n: number): Dataset {
  const dir = splitDir(n);
  const info = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8')) as SplitInfo;
  return {
    dir,
    info,
    base: readF32(join(dir, 'base.f32')),
    baseIds: readI32(join(dir, 'base_ids.i32')),
    queries: readF32(join(dir, 'queries.f32')),
    queryRows: readI32(join(dir, 'query_rows.i32')),
    gt: readI32(join(dir, 'gt.i32')),
    trainRows: readI32(join(dir, 'train_rows.i32')),
  };
}

/** The training sample as a row-major matrix. */
export function trainingSample(ds: Dataset): Float32Array {
  const d = ds.info.dims;
  const out = new Float32Array(ds.trainRows.length * d);
  ds.trainRows.forEach((r, i) => out.set(ds.base.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

export function query(ds: Dataset, i: number): Float32Array {
  const d = ds.info.dims;
  // a fresh array at byte offset 0 (usearch ignores a view's offset)
  return ds.queries.slice(i * d, (i + 1) * d);
}
