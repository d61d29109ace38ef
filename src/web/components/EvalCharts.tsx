import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { score, when } from '../format.js';
import type { EvalHistoryEntry } from '../types.js';

const NDCG = 'ndcg@10';
const RECALL = 'recall@100';
const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'];

/** The latest result of each mode (the newest run that evaluated it). */
export function latestByMode(history: readonly EvalHistoryEntry[]): Array<{ mode: string; at: string; dataset: string; ndcg: number | null; recall: number | null }> {
  const out = new Map<string, { mode: string; at: string; dataset: string; ndcg: number | null; recall: number | null }>();
  for (const e of history) {
    for (const m of e.modes) out.set(m.mode, { mode: m.mode, at: e.at, dataset: e.dataset, ndcg: m.metrics[NDCG] ?? null, recall: m.metrics[RECALL] ?? null });
  }
  return [...out.values()];
}

function modesOf(history: readonly EvalHistoryEntry[]): string[] {
  return [...new Set(history.flatMap((e) => e.modes.map((m) => m.mode)))];
}

/** nDCG@10 and Recall@100 per mode, as bars (0 to 1) with their numbers: a chart that is also a table. */
export function LatestEval({ history }: { history: readonly EvalHistoryEntry[] }) {
  const latest = latestByMode(history);
  return (
    <table class="eval-bars" aria-describedby="eval-latest-caption">
      <caption id="eval-latest-caption">Latest result per mode</caption>
      <thead>
        <tr>
          <th scope="col">Mode</th>
          <th scope="col">nDCG@10</th>
          <th scope="col">Recall@100</th>
        </tr>
      </thead>
      <tbody>
        {latest.map((l) => (
          <tr key={l.mode} title={`${l.dataset}, ${when(l.at)}`}>
            <th scope="row">{l.mode}</th>
            {[l.ndcg, l.recall].map((v, i) => (
              <td key={i}>
                <div class="bar-cell">
                  <span class="hbar" aria-hidden="true">
                    <span class={`fill ${i === 0 ? 'metric-ndcg' : 'metric-recall'}`} style={{ width: `${Math.max(0, Math.min(1, v ?? 0)) * 100}%` }} />
                  </span>
                  <span class="num">{score(v)}</span>
                </div>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** nDCG@10 (solid) and Recall@100 (dashed) of each mode over time (uPlot). */
export function EvalHistoryChart({ history }: { history: readonly EvalHistoryEntry[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || history.length === 0) return;
    const modes = modesOf(history);
    const xs = history.map((e) => Date.parse(e.at) / 1000);
    const value = (e: EvalHistoryEntry, mode: string, metric: string) => e.modes.find((m) => m.mode === mode)?.metrics[metric] ?? null;
    const data: uPlot.AlignedData = [xs, ...modes.flatMap((m) => [history.map((e) => value(e, m, NDCG)), history.map((e) => value(e, m, RECALL))])];
    const ink = getComputedStyle(el).color;
    const grid = { stroke: 'rgba(128,128,128,0.2)', width: 1 };
    const series: uPlot.Series[] = [
      { label: 'time', value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toLocaleString()) },
      ...modes.flatMap((m, i) => {
        const stroke = PALETTE[i % PALETTE.length];
        const fmt = (_u: uPlot, v: number | null) => score(v);
        return [
          { label: `${m} nDCG@10`, stroke, width: 2, points: { show: true, size: 6 }, spanGaps: true, value: fmt },
          { label: `${m} Recall@100`, stroke, width: 2, dash: [6, 4], points: { show: true, size: 5 }, spanGaps: true, value: fmt },
        ];
      }),
    ];
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 240,
        series,
        scales: { x: { time: true }, y: { range: [0, 1] } },
        axes: [
          { stroke: ink, grid, ticks: grid },
          { stroke: ink, grid, ticks: grid, size: 44 },
        ],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [history]);
  return <div ref={box} class="history-chart" role="img" aria-label="nDCG@10 and Recall@100 of each mode over time; the table below lists every run" />;
}

export function EvalHistoryTable({ history }: { history: readonly EvalHistoryEntry[] }) {
  const modes = modesOf(history);
  return (
    <div class="table-scroll">
      <table class="data">
        <caption class="sr-only">Every evaluation run, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Finished</th>
            <th scope="col">Dataset</th>
            <th scope="col">Queries</th>
            {modes.map((m) => (
              <th key={m} scope="col">
                {m} nDCG@10 / R@100
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...history].reverse().map((e) => (
            <tr key={e.at}>
              <td>{when(e.at)}</td>
              <td>
                {e.dataset} ({e.split})
              </td>
              <td class="num">{e.queries}</td>
              {modes.map((m) => {
                const r = e.modes.find((x) => x.mode === m);
                return (
                  <td key={m} class="num">
                    {r ? `${score(r.metrics[NDCG] ?? null)} / ${score(r.metrics[RECALL] ?? null)}` : '—'}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
