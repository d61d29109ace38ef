/** A promotion gate's outcome (kept in the deployment file; cited by GateRefusedError). No imports: errors.ts depends on it. */
/** One gate evaluation: both generations on the collection's held-out judgments. */
export interface GateRow {
  generation: number;
  model: string;
  'ndcg@10': number;
  'recall@100': number;
}

export interface GateResult {
  at: string;
  mode: string;
  queries: number;
  tolerance: number;
  live: GateRow;
  shadow: GateRow;
  passed: boolean;
  forced: boolean;
}
