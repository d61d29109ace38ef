/**
 * Live search latency percentiles over a rolling window: the most recent searches (at most
 * `capacity`, none older than `maxAgeMs`), per collection and mode. Prometheus histograms
 * (metrics.ts) are what alerts and dashboards aggregate across replicas; this window is what
 * one server can tell a person right now without a Prometheus beside it (the web page).
 *
 * Each window is a fixed ring of (time, milliseconds) pairs: recording is O(1) and memory is
 * bounded whatever the traffic; a summary sorts at most `capacity` numbers.
 */
import { percentile } from '../eval/metrics.js';

export const DEFAULT_WINDOW_SAMPLES = 1000;
export const DEFAULT_WINDOW_MS = 5 * 60_000;

export interface LatencySummary {
  /** Searches in the window. */
  count: number;
  /** Milliseconds (nearest rank); null when the window is empty. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface WindowOptions {
  capacity?: number;
  maxAgeMs?: number;
  /** The clock (tests hand in their own). */
  now?: () => number;
}

export class LatencyWindow {
  private readonly ms: Float64Array;
  private readonly at: Float64Array;
  private next = 0;
  private size = 0;
  /** Every sample ever recorded, in the window or not. */
  total = 0;
  readonly capacity: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(opts: WindowOptions = {}) {
    this.capacity = opts.capacity ?? DEFAULT_WINDOW_SAMPLES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_WINDOW_MS;
    this.now = opts.now ?? Date.now;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ms = new Float64Array(this.capacity);
    this.at = new Float64Array(this.capacity);
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.ms[this.next] = ms;
    this.at[this.next] = this.now();
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.total++;
  }

  /** The samples still in the window. */
  values(): number[] {
    const since = this.now() - this.maxAgeMs;
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.at[i] >= since) out.push(this.ms[i]);
    return out;
  }

  summary(): LatencySummary {
    return summarize(this.values());
  }
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    count: values.length,
    p50: r(percentile(values, 50)),
    p95: r(percentile(values, 95)),
    p99: r(percentile(values, 99)),
    max: r(Math.max(...values)),
  };
}

export interface CollectionLatency {
  window: { maxSamples: number; maxAgeSeconds: number };
  /** Searches answered since the server started, and those in the window. */
  searches: { total: number; inWindow: number };
  /** Every mode together (its own window of the most recent searches). */
  overall: LatencySummary;
  /** By mode: vector, bm25, hybrid, each optionally "+rerank". */
  modes: Record<string, LatencySummary>;
}

/** One window per collection and mode, plus one per collection over every mode. */
export class LatencyWindows {
  private readonly byCollection = new Map<string, { all: LatencyWindow; modes: Map<string, LatencyWindow> }>();

  constructor(private readonly opts: WindowOptions = {}) {}

  record(collection: string, mode: string, ms: number): void {
    let c = this.byCollection.get(collection);
    if (!c) {
      c = { all: new LatencyWindow(this.opts), modes: new Map() };
      this.byCollection.set(collection, c);
    }
    let w = c.modes.get(mode);
    if (!w) {
      w = new LatencyWindow(this.opts);
      c.modes.set(mode, w);
    }
    w.record(ms);
    c.all.record(ms);
  }

  stats(collection: string): CollectionLatency {
    const c = this.byCollection.get(collection);
    const all = c?.all ?? new LatencyWindow(this.opts);
    const overall = all.summary();
    const modes: Record<string, LatencySummary> = {};
    for (const [mode, w] of [...(c?.modes ?? new Map<string, LatencyWindow>())].sort(([a], [b]) => a.localeCompare(b))) modes[mode] = w.summary();
    return {
      window: { maxSamples: all.capacity, maxAgeSeconds: all.maxAgeMs / 1000 },
      searches: { total: all.total, inWindow: overall.count },
      overall,
      modes,
    };
  }

  /** Drops a deleted collection's windows. */
  forget(collection: string): void {
    this.byCollection.delete(collection);
  }
}
