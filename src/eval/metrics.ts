/**
 * Ranking metrics as BEIR computes them (pytrec_eval / trec_eval): graded relevance from the
 * qrels, a document counting as relevant when its grade is > 0.
 *
 *   nDCG@k   DCG = Σ_{i≤k} rel_i / log2(i + 1) (trec_eval's linear gain), divided by the DCG
 *            of the ideal order of all judged documents
 *   Recall@k |relevant ∩ top k| / |relevant|
 *   MRR@k    1 / rank of the first relevant document in the top k (0 if none)
 *   P@k      |relevant ∩ top k| / k
 */

/** doc id -> grade, for one query. */
export type Judgments = ReadonlyMap<string, number>;

export function ndcgAtK(ranked: readonly string[], rel: Judgments, k: number): number {
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) {
    const g = rel.get(ranked[i]) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  const ideal = [...rel.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

function relevantCount(rel: Judgments): number {
  let n = 0;
  for (const g of rel.values()) if (g > 0) n++;
  return n;
}

function hitsInTop(ranked: readonly string[], rel: Judgments, k: number): number {
  let hits = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rel.get(ranked[i]) ?? 0) > 0) hits++;
  return hits;
}

export function recallAtK(ranked: readonly string[], rel: Judgments, k: number): number {
  const total = relevantCount(rel);
  return total === 0 ? 0 : hitsInTop(ranked, rel, k) / total;
}

export function mrrAtK(ranked: readonly string[], rel: Judgments, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rel.get(ranked[i]) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

export function precisionAtK(ranked: readonly string[], rel: Judgments, k: number): number {
  return hitsInTop(ranked, rel, k) / k;
}

/** The p-th percentile (nearest rank) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
