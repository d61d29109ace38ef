/**
 * The configurations every system runs, in one place so quarry, FAISS, LanceDB and raw
 * usearch build the same thing (the Python peer receives this list as JSON).
 */

export type ConfigKind = 'flat' | 'ivf' | 'ivfpq' | 'hnsw';

export interface BuildParams {
  nlist?: number;
  /** IVF-PQ: sub-quantizers (bytes per code at 8 bits). */
  m?: number;
  bits?: number;
  /** HNSW: neighbors per node, and the candidate list while building. */
  M?: number;
  efConstruction?: number;
  /** HNSW: how the graph stores vectors. */
  quantization?: 'f32' | 'i8';
}

export interface SearchPoint {
  nprobe?: number;
  /** IVF-PQ: candidates rescored with full-precision vectors (FAISS k_factor = refine / k). */
  refine?: number;
  efSearch?: number;
}

export interface AnnConfig {
  id: string;
  kind: ConfigKind;
  label: string;
  build: BuildParams;
  points: SearchPoint[];
}

export const K = 10;
export const QUERY_COUNT = 1000;
export const WARMUP_QUERIES = 100;
/** Held-out query rows are drawn with this seed. */
export const SPLIT_SEED = 42;
/** IVF / IVF-PQ training sample: the same rows for every system that takes a sample. */
export const TRAIN_SAMPLE = 65_536;

const nprobes = [8, 16, 32, 64];

export const CONFIGS: AnnConfig[] = [
  { id: 'flat', kind: 'flat', label: 'Flat (exact)', build: {}, points: [{}] },
  { id: 'ivf-256', kind: 'ivf', label: 'IVF nlist 256', build: { nlist: 256 }, points: nprobes.map((nprobe) => ({ nprobe })) },
  {
    id: 'ivf-1024',
    kind: 'ivf',
    label: 'IVF nlist 1024',
    build: { nlist: 1024 },
    points: [...nprobes, 128].map((nprobe) => ({ nprobe })),
  },
  ...[48, 96].map(
    (m): AnnConfig => ({
      id: `ivfpq-1024-m${m}`,
      kind: 'ivfpq',
      label: `IVF-PQ nlist 1024, m ${m} x 8 bits, refine`,
      build: { nlist: 1024, m, bits: 8 },
      points: [
        { nprobe: 16, refine: 100 },
        { nprobe: 32, refine: 100 },
        { nprobe: 64, refine: 100 },
        { nprobe: 32, refine: 200 },
        { nprobe: 64, refine: 200 },
      ],
    }),
  ),
  ...(['f32', 'i8'] as const).map(
    (quantization): AnnConfig => ({
      id: `hnsw-${quantization}`,
      kind: 'hnsw',
      label: `HNSW ${quantization}, M 16, efConstruction 128`,
      build: { M: 16, efConstruction: 128, quantization },
      points: [32, 64, 128].map((efSearch) => ({ efSearch })),
    }),
  ),
];

/** "nprobe 32, refine 100" */
export function describePoint(p: SearchPoint): string {
  const parts: string[] = [];
  if (p.nprobe !== undefined) parts.push(`nprobe ${p.nprobe}`);
  if (p.refine !== undefined) parts.push(`refine ${p.refine}`);
  if (p.efSearch !== undefined) parts.push(`ef ${p.efSearch}`);
  return parts.join(', ') || 'exact';
}

export function selectConfigs(filter = process.env.BENCH_ANN_CONFIGS): AnnConfig[] {
  if (!filter?.trim()) return CONFIGS;
  const wanted = filter.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !CONFIGS.some((c) => c.id === w));
  if (unknown.length) throw new Error(`BENCH_ANN_CONFIGS: unknown ${unknown.join(', ')}; known: ${CONFIGS.map((c) => c.id).join(', ')}`);
  return CONFIGS.filter((c) => wanted.includes(c.id));
}
