import type { SearchResult } from '../types.js';
import { score } from '../format.js';
import { Highlighted, snippetRange } from './Highlighted.js';
import { ScoreBars, type ScoreScale } from './ScoreBars.js';

export function ResultCard({ r, scale }: { r: SearchResult; scale: ScoreScale }) {
  const id = `result-${r.rank}`;
  return (
    <li class="result card" data-chunk={r.chunkId} data-doc={r.docId}>
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
        {r.passages && r.passages.length > 0 ? <Passages r={r} /> : null}
      </article>
    </li>
  );
}

/** The document's other matching chunks, under its best one: a snippet each, with its span and score. */
function Passages({ r }: { r: SearchResult }) {
  const id = `passages-${r.rank}`;
  return (
    <section class="passages" aria-labelledby={id}>
      <h4 id={id}>
        {r.passages!.length === 1 ? 'Another matching passage' : `${r.passages!.length} more matching passages`} in this document
      </h4>
      <ul>
        {r.passages!.map((p) => {
          const [from, to] = snippetRange(p.text, p.highlights, 200);
          return (
            <li key={p.chunkId} class="passage" data-chunk={p.chunkId}>
              <p class="snippet">
                {from > 0 ? '… ' : ''}
                <Highlighted text={p.text} spans={p.highlights} from={from} to={to} />
                {to < p.text.length ? ' …' : ''}
              </p>
              <span class="muted passage-meta">
                characters {p.span.start}–{p.span.end} · score {score(p.score)}
                {p.scores.vector !== null ? ` · cosine ${score(p.scores.vector)}` : ''}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
