/**
 * Batches by a memory budget instead of a fixed count: the seeds tell of a service that
 * OOM-killed itself on a fixed batch of 512. Inputs are sorted by length so each batch pads
 * to a similar length, and a batch grows only while its estimated activation memory fits.
 */

export interface BatchPlanOptions {
  /** Bytes one forward pass may use for activations. */
  memoryBudgetBytes: number;
  /** Upper bound on items per batch, whatever their size. */
  maxBatchSize: number;
  hiddenSize: number;
  numHeads: number;
}

/**
 * Activation memory of one forward pass, float32: the hidden states of the widest layer
 * (about 16 x hidden per token, counting the feed-forward expansion, Q/K/V and residuals)
 * plus the attention score matrices (heads x seq x seq per item).
 */
export function estimateBatchBytes(batch: number, seqLen: number, hidden: number, heads: number): number {
  return 4 * batch * seqLen * (16 * hidden + 2 * heads * seqLen);
}

/** Groups item indices into batches; `lengths[i]` is item i's token count with specials. */
export function planBatches(lengths: number[], opts: BatchPlanOptions): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const i of order) {
    const w = Math.max(width, lengths[i]);
    const fits =
      current.length < opts.maxBatchSize &&
      estimateBatchBytes(current.length + 1, w, opts.hiddenSize, opts.numHeads) <= opts.memoryBudgetBytes;
    if (current.length > 0 && !fits) {
      batches.push(current);
      current = [];
      width = 0;
    }
    current.push(i);
    width = Math.max(width, lengths[i]);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
