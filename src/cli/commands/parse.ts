import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { INDEX_TYPES, INDEX_TYPES_TEXT, type IndexType } from '../../index/vector-index.js';
import type { IndexSettings } from '../../store/manifest.js';

export function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

export function floatArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };
}

export interface CollectionFlags {
  data: string;
  collection: string;
  models?: string;
}

export function collectionOptions(o: CollectionFlags) {
  return { dataDir: o.data, collection: o.collection, modelsDir: o.models };
}

export interface IndexParamFlags {
  index?: string;
  nlist?: number;
  nprobe?: number;
  pqM?: number;
  pqBits?: number;
  refine?: number;
  hnswM?: number;
  efConstruction?: number;
  efSearch?: number;
  hnswQuantization?: string;
  recallFloor?: number;
}

/** Index flags as the registry's parameter names; undefined when no index flag was given. */
export function indexSettingsFrom(o: IndexParamFlags): IndexSettings | undefined {
  const params: Record<string, number | string> = {};
  const set = (k: string, v: number | string | undefined) => v !== undefined && (params[k] = v);
  set('nlist', o.nlist);
  set('nprobe', o.nprobe);
  set('pqM', o.pqM);
  set('pqBits', o.pqBits);
  set('refine', o.refine);
  set('connectivity', o.hnswM);
  set('expansionAdd', o.efConstruction);
  set('expansionSearch', o.efSearch);
  set('quantization', o.hnswQuantization);
  if (o.index === undefined) {
    if (Object.keys(params).length > 0 || o.recallFloor !== undefined) {
      throw new InvalidInputError(`index parameters need --index ${INDEX_TYPES.join('|')}`);
    }
    return undefined;
  }
  return {
    type: o.index as IndexType,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    ...(o.recallFloor !== undefined ? { recallFloor: o.recallFloor } : {}),
  };
}

/** The vector index options `index` and `reindex` share. */
export function withIndexOptions(cmd: Command): Command {
  return cmd
    .option('--index <type>', `vector index: ${INDEX_TYPES_TEXT} (flat is exact)`)
    .option('--nlist <n>', 'ivf/ivfpq: inverted lists (default ~sqrt(vectors))', intArg(1, 1_000_000))
    .option('--nprobe <n>', 'ivf/ivfpq: lists probed per query (default 10)', intArg(1, 1_000_000))
    .option('--pq-m <m>', 'ivfpq: sub-quantizers, must divide the dimensions (default dims/8)', intArg(1, 4096))
    .option('--pq-bits <b>', 'ivfpq: bits per sub-quantizer code, 4-8 (default 8)', intArg(4, 8))
    .option('--refine <k>', 'ivfpq: candidates rescored exactly (default 100)', intArg(0, 100_000))
    .option('--hnsw-m <m>', 'hnsw: connectivity M (default 16)', intArg(2, 512))
    .option('--ef-construction <n>', 'hnsw: candidate list while building (default 128)', intArg(1, 100_000))
    .option('--ef-search <n>', 'hnsw: candidate list while searching (default 64)', intArg(1, 100_000))
    .option('--hnsw-quantization <q>', 'hnsw: f32, f16 or i8 (default f32)')
    .option('--recall-floor <x>', 'warn when measured recall@10 falls under this (default 0.9)', floatArg(0, 1));
}
