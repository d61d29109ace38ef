/**
 * Index types by name: create one from a type and params, or load any index file by the type
 * in its header. Each type registers a factory; flat and hnsw here, IVF types from their own
 * modules (`registerIndexType('ivf', ...)` at module load), imported on demand by the names in
 * INDEX_TYPES (vector-index.ts), the one list of types.
 */
import { InvalidInputError } from '../errors.js';
import { FlatIndex } from './flat-index.js';
import { HNSW_DEFAULTS, HnswIndex, type HnswLoadOptions, type HnswOptions } from './hnsw-index.js';
import { IndexFileError, readIndexHeader } from './index-file.js';
import { INDEX_TYPES, type IndexType, type VectorIndex } from './vector-index.js';

export interface LoadIndexOptions extends HnswLoadOptions {
  /** Refuse a file of another type (IndexFileError). */
  type?: IndexType;
}

export interface IndexFactory {
  create(dims: number, params: Record<string, unknown>): VectorIndex;
  load(path: string, opts: LoadIndexOptions): Promise<VectorIndex>;
}

const factories = new Map<IndexType, IndexFactory>();

export function registerIndexType(type: IndexType, factory: IndexFactory): void {
  factories.set(type, factory);
}

export function registeredIndexTypes(): IndexType[] {
  return [...factories.keys()];
}

function factoryOf(type: IndexType): IndexFactory {
  const f = factories.get(type);
  if (!f) {
    const known = registeredIndexTypes().join(', ');
    throw new InvalidInputError(`index type "${type}" is not available (known: ${known}); import its module (e.g. ./${type}-index.js) first`, {
      field: 'type',
    });
  }
  return f;
}

export function createIndex(type: IndexType, dims: number, params: Record<string, unknown> = {}): VectorIndex {
  return factoryOf(type).create(dims, params);
}

/** Loads an index file of any registered type; an unregistered type's module is imported by its conventional name. */
export async function loadIndex(path: string, opts: LoadIndexOptions = {}): Promise<VectorIndex> {
  const { header } = await readIndexHeader(path, opts.type);
  if (header.type === 'bm25') throw new IndexFileError(path, 'it holds the lexical (bm25) index, not a vector index');
  if (!factories.has(header.type) && (INDEX_TYPES as readonly string[]).includes(header.type)) {
    await import(`./${header.type}-index.js`).catch(() => undefined);
  }
  return factoryOf(header.type).load(path, opts);
}

/** A misspelt param would otherwise be ignored silently and its default used. */
function onlyKnown(type: IndexType, params: Record<string, unknown>, known: string[]): void {
  const unknown = Object.keys(params).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(`unknown ${type} index params: ${unknown.join(', ')} (known: ${known.join(', ')})`, { field: 'params' });
  }
}

registerIndexType('flat', {
  create: (dims, params) => {
    onlyKnown('flat', params, ['capacity']);
    return new FlatIndex(dims, params.capacity as number | undefined);
  },
  load: (path) => FlatIndex.load(path),
});

registerIndexType('hnsw', {
  create: (dims, params) => {
    onlyKnown('hnsw', params, Object.keys(HNSW_DEFAULTS));
    return new HnswIndex(dims, params as HnswOptions);
  },
  load: (path, opts) => HnswIndex.load(path, opts),
});
