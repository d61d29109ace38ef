import type { SearchResult } from '../types.js';
import { score } from '../format.js';
import { Highlighted } from './Highlighted.js';
import { ScoreBars, type ScoreScale } from './ScoreBars.js';

export function ResultCard({ r, scale }: { r: SearchResult; scale: ScoreScale }) {
  const id = `result-${r.rank}`;
  return (
    <li class="result card" data-chunk={r.chunkId}>
      <article aria-labelledby={id}>
        <header class="result-head">
          <span class="rank" aria-label={`rank ${r.rank}`}>{r.rank}</span>
          <h3 id={id}>{r.title ?? r.docId}</h3>
          <span class="score" title="the score this result is ranked by">{score(r.score)}</span>
        </header>
        <div class="result-body">
          <p class="text">
            <Highlighted text={r.text} spans={r.highlights} />
          </p>
          <ScoreBars scores={r.scores} scale={scale} />
        </div>
        <dl class="lineage">
          <div>
            <dt>Source</dt>
            <dd>
              {r.source}
              {r.locator ? ` · ${r.locator}` : ''}
            </dd>
          </div>
          <div>
            <dt>Span</dt>
            <dd>
              characters {r.span.start}–{r.span.end} ({r.chunkId})
            </dd>
          </div>
          <div>
            <dt>Model</dt>
            <dd>{r.lineage.model}</dd>
          </div>
        </dl>
      </article>
    </li>
  );
}
