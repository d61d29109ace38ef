import { score } from '../format.js';
import type { SearchResponse, SearchResult } from '../types.js';
import { Highlighted, snippetRange } from './Highlighted.js';

type Move = { kind: 'up' | 'down' | 'same' | 'only'; by: number; otherRank?: number };

function moveOf(r: SearchResult, other: Map<string, number>): Move {
  const o = other.get(r.docId);
  if (o === undefined) return { kind: 'only', by: 0 };
  if (o === r.rank) return { kind: 'same', by: 0, otherRank: o };
  return { kind: o > r.rank ? 'up' : 'down', by: Math.abs(o - r.rank), otherRank: o };
}

function MoveMark({ move, otherMode }: { move: Move; otherMode: string }) {
  const text = { up: `▲ ${move.by}`, down: `▼ ${move.by}`, same: '=', only: 'new' }[move.kind];
  const label =
    move.kind === 'only'
      ? `not in ${otherMode}'s top 10`
      : move.kind === 'same'
        ? `same rank in ${otherMode}`
        : `${move.kind === 'up' ? 'higher' : 'lower'} by ${move.by} than in ${otherMode} (rank ${move.otherRank})`;
  return (
    <span class={`move move-${move.kind}`} title={label}>
      <span aria-hidden="true">{text}</span>
      <span class="sr-only">{label}</span>
    </span>
  );
}

function Column({ res, other, id }: { res: SearchResponse; other: SearchResponse; id: string }) {
  // matched by document: each list holds documents (or, for a chunk search, the chunk's document at its best rank)
  const ranks = new Map<string, number>();
  for (const r of other.results) if (!ranks.has(r.docId)) ranks.set(r.docId, r.rank);
  return (
    <section class="compare-col card" aria-labelledby={id}>
      <h2 id={id}>
        {res.mode}
        {res.reranker ? ' + rerank' : ''} <span class="muted">({res.results.length} results, {res.tookMs} ms)</span>
      </h2>
      {res.results.length === 0 ? (
        <p class="empty">No results above the cutoff.</p>
      ) : (
        <ol class="compare-list">
          {res.results.map((r) => {
            const move = moveOf(r, ranks);
            const [from, to] = snippetRange(r.text, r.highlights, 160);
            return (
              <li key={r.chunkId} class="compare-item" data-chunk={r.chunkId} data-moved={move.kind}>
                <span class="rank">{r.rank}</span>
                <div class="compare-main">
                  <div class="compare-title">
                    <strong>{r.title ?? r.docId}</strong>
                    <MoveMark move={move} otherMode={other.mode} />
                    <span class="score">{score(r.score)}</span>
                  </div>
                  <p class="snippet">
                    {from > 0 ? '… ' : ''}
                    <Highlighted text={r.text} spans={r.highlights} from={from} to={to} />
                    {to < r.text.length ? ' …' : ''}
                  </p>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

/** Two modes' top 10 side by side; each result says where it stands in the other list. */
export function Compare({ a, b }: { a: SearchResponse; b: SearchResponse }) {
  return (
    <div class="compare">
      <Column res={a} other={b} id="compare-a" />
      <Column res={b} other={a} id="compare-b" />
    </div>
  );
}
