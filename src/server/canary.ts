/**
 * The canary's arithmetic (registry.ts runs the searches): what one comparison of the live
 * answer with the shadow generation's adds to the tally, and the tally as reported.
 */
import type { CanaryStats, CanaryTally } from './registry-types.js';

type Answer = { results: ReadonlyArray<{ docId: string; score: number }> };

export function newCanaryTally(shadow: number): CanaryTally {
  return { shadow, compared: 0, failed: 0, overlapSum: 0, shiftSum: 0, shiftCount: 0 };
}

/**
 * Adds one comparison: the share of the live answer's top-10 documents the shadow also
 * returned, and the shift of the top score. Null (nothing counted) when the live answer is empty.
 */
export function compareWithShadow(tally: CanaryTally, live: Answer, shadow: Answer): { overlapAt10: number; top1ScoreShift: number } | null {
  const docs = (r: Answer) => [...new Set(r.results.map((x) => x.docId))].slice(0, 10);
  const a = docs(live);
  if (a.length === 0) return null;
  const b = new Set(docs(shadow));
  const overlapAt10 = a.filter((x) => b.has(x)).length / a.length;
  const shift = shadow.results.length > 0 && live.results.length > 0 ? shadow.results[0].score - live.results[0].score : null;
  tally.compared++;
  tally.overlapSum += overlapAt10;
  if (shift !== null) {
    tally.shiftSum += shift;
    tally.shiftCount++;
  }
  return { overlapAt10, top1ScoreShift: shift ?? 0 };
}

export function canaryStatsOf(c: CanaryTally): CanaryStats {
  return {
    shadow: c.shadow,
    compared: c.compared,
    failed: c.failed,
    meanOverlapAt10: c.compared > 0 ? Math.round((c.overlapSum / c.compared) * 1e4) / 1e4 : null,
    meanTop1ScoreShift: c.shiftCount > 0 ? Math.round((c.shiftSum / c.shiftCount) * 1e4) / 1e4 : null,
  };
}
