/**
 * Fusing ranked lists from several retrievers (vector, BM25) into one.
 *
 * Weighted reciprocal rank fusion (Cormack et al., 2009, with per-retriever weights):
 *
 *     score(d) = Σ_i  w_i / (k + rank_i(d))
 *
 * rank_i(d) starts at 1 in retriever i's list; a document missing from list i gets nothing
 * from it. Default k = 60. Ties are broken by id ascending, so the order is deterministic.
 *
 * Convex (min-max) fusion, for corpora where score magnitudes carry information:
 *
 *     score(d) = Σ_i  w_i · (s_i(d) - min_i) / (max_i - min_i)
 *
 * over each list's own window (a list whose scores are all equal maps them to 1); a
 * document missing from list i gets 0 from it.
 */
import { InvalidInputError } from '../errors.js';

export interface RankedList {
  /** Retriever name, the key of its weight ("vector", "bm25"). */
  name: string;
  /** Best first. */
  hits: ReadonlyArray<{ id: number; score: number }>;
}

export interface FusedHit {
  id: number;
  score: number;
  /** Per retriever: 1-based rank and raw score, where the document appeared. */
  from: Record<string, { rank: number; score: number }>;
}

export const DEFAULT_RRF_K = 60;
export type FusionMethod = 'rrf' | 'convex';
export const FUSION_METHODS: readonly FusionMethod[] = ['rrf', 'convex'];
/**
 * Hybrid's default. Convex with equal weights is the untuned, neutral choice; on SciFact's
 * train split it beat every RRF setting tried (nDCG@10 0.739 vs 0.722 at k = 60, see
 * EVALUATION.md), in line with Bruch et al. 2023 (ACM TOIS), who found convex combination
 * ahead of RRF in and out of domain. RRF stays one flag away (`fusion: 'rrf'`).
 */
export const DEFAULT_FUSION: FusionMethod = 'convex';

/**
 * The fusion a request means: explicit, else RRF when only an RRF k was given (it applies to
 * nothing else), else the default. A k with convex fusion is a mistake, so it is refused.
 */
export function fusionOf(fusion: FusionMethod | undefined, rrfK: number | undefined): FusionMethod {
  if (fusion !== undefined && !FUSION_METHODS.includes(fusion)) {
    throw new InvalidInputError(`fusion must be one of ${FUSION_METHODS.join(', ')}, got "${String(fusion)}"`, { field: 'fusion' });
  }
  if (fusion === 'convex' && rrfK !== undefined) throw new InvalidInputError('rrfK applies to RRF fusion only; drop it or use fusion rrf', { field: 'rrfK' });
  return fusion ?? (rrfK !== undefined ? 'rrf' : DEFAULT_FUSION);
}

function weightOf(weights: Readonly<Record<string, number>>, name: string): number {
  const w = weights[name] ?? 1;
  if (!Number.isFinite(w) || w < 0) throw new InvalidInputError(`weight of ${name} must be a number ≥ 0, got ${w}`, { field: 'weights' });
  return w;
}

function collect(lists: readonly RankedList[], contribution: (list: RankedList, index: number) => number): FusedHit[] {
  const fused = new Map<number, FusedHit>();
  for (const list of lists) {
    list.hits.forEach((h, i) => {
      let f = fused.get(h.id);
      if (!f) fused.set(h.id, (f = { id: h.id, score: 0, from: {} }));
      f.score += contribution(list, i);
      f.from[list.name] = { rank: i + 1, score: h.score };
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.id - b.id);
}

/** Weighted RRF over the lists; weights default to 1 per retriever. */
export function rrfFuse(lists: readonly RankedList[], opts: { k?: number; weights?: Readonly<Record<string, number>> } = {}): FusedHit[] {
  const k = opts.k ?? DEFAULT_RRF_K;
  if (!Number.isFinite(k) || k < 0) throw new InvalidInputError(`rrf k must be a number ≥ 0, got ${k}`, { field: 'rrfK' });
  const weights = opts.weights ?? {};
  return collect(lists, (list, i) => weightOf(weights, list.name) / (k + i + 1));
}

/** Min-max over one list of scores: lowest 0, highest 1; all-equal scores map to 1. */
export function minmax(xs: readonly number[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const span = hi - lo;
  return xs.map((x) => (span > 0 ? (x - lo) / span : 1));
}

/** Weighted sum of min-max normalized scores. */
export function convexFuse(lists: readonly RankedList[], opts: { weights?: Readonly<Record<string, number>> } = {}): FusedHit[] {
  const weights = opts.weights ?? {};
  const normalized = new Map(lists.map((list) => [list, minmax(list.hits.map((h) => h.score))]));
  return collect(lists, (list, i) => weightOf(weights, list.name) * normalized.get(list)![i]);
}

/**
 * "vector=1,bm25=0.5" → { vector: 1, bm25: 0.5 }. Unknown names and bad numbers are
 * refused, so a typo never silently falls back to weight 1.
 */
export function parseWeights(text: string, known: readonly string[] = ['vector', 'bm25']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9_]+)\s*=\s*(.+)$/i.exec(part);
    if (!m) throw new InvalidInputError(`weights: "${part}" is not name=number (e.g. vector=1,bm25=0.5)`, { field: 'weights' });
    const [, name, value] = m;
    if (!known.includes(name)) throw new InvalidInputError(`weights: unknown retriever "${name}" (known: ${known.join(', ')})`, { field: 'weights' });
    const w = Number(value);
    if (!Number.isFinite(w) || w < 0) throw new InvalidInputError(`weights: ${name} must be a number ≥ 0, got "${value}"`, { field: 'weights' });
    out[name] = w;
  }
  return out;
}
