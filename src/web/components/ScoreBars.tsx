import { score } from '../format.js';
import type { Scores, SearchResult } from '../types.js';

export const TIERS: Array<{ key: keyof Scores; label: string; help: string }> = [
  { key: 'vector', label: 'vector', help: 'cosine similarity of the query and chunk embeddings (bar: 0 to 1)' },
  { key: 'bm25', label: 'BM25', help: 'BM25 score of the query terms (bar: relative to the best on this page)' },
  { key: 'fused', label: 'fused', help: 'hybrid fusion of vector and BM25 (bar: relative to the best on this page)' },
  { key: 'rerank', label: 'rerank', help: "the tier-2 model's score (bar: relative to the best on this page)" },
];

/** What 100% of each tier's bar means on a page of results: cosine is absolute, the others relative to the page's best. */
export type ScoreScale = Record<keyof Scores, number>;

export function scaleOf(results: readonly SearchResult[]): ScoreScale {
  const max = (k: keyof Scores) => Math.max(0, ...results.map((r) => r.scores[k] ?? 0));
  return { vector: 1, bm25: max('bm25') || 1, fused: max('fused') || 1, rerank: max('rerank') || 1 };
}

/** Each tier's score as a number and a small bar, so a person sees why a result ranked where it did. */
export function ScoreBars({ scores, scale }: { scores: Scores; scale: ScoreScale }) {
  return (
    <table class="scores">
      <caption class="sr-only">Score per tier</caption>
      <tbody>
        {TIERS.map((t) => {
          const v = scores[t.key];
          const pct = v === null ? 0 : Math.max(0, Math.min(100, (v / scale[t.key]) * 100));
          return (
            <tr key={t.key} class={v === null ? 'absent' : undefined} data-tier={t.key} title={t.help}>
              <th scope="row">{t.label}</th>
              <td class="bar" aria-hidden="true">
                <span class={`fill tier-${t.key}`} style={{ width: `${pct.toFixed(1)}%` }} />
              </td>
              <td class="num">{v === null ? <span title="this tier did not score this result">—</span> : score(v)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
