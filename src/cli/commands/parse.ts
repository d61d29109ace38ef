import { InvalidArgumentError } from 'commander';
import { InvalidInputError } from '../../errors.js';
import type { IndexType } from '../../index/vector-index.js';
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
      throw new InvalidInputError('index parameters need --index flat|ivf|ivfpq|hnsw');
    }
    return undefined;
  }
  return {
    type: o.index as IndexType,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    ...(o.recallFloor !== undefined ? { recallFloor: o.recallFloor } : {}),
  };
}
