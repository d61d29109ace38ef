/**
 * Admission control for searches (issue 14): at most `concurrency` run at once; the others
 * wait for a turn, in order, and a search is refused at once with 429 and a Retry-After,
 * instead of joining a queue that grows without limit while every answer gets later, when
 *  - `queue` searches already wait (a hard bound), or
 *  - it would wait longer than the target (`targetWaitMs`, by default the mean search time,
 *    at least 20 ms): the searches ahead of it in the queue, shared among the
 *    `concurrency` slots, at the mean search time each. So what is answered waits about
 *    the target at most, however far the load exceeds capacity: latency stays bounded and
 *    the excess is shed. (A rule on the wait of the head of the queue, CoDel's idea, was
 *    tried first: arrivals are checked in batches, between two synchronous searches, so it
 *    let waits reach several times its target.) Time spent waiting is measured (quarry_search_queue_wait_seconds) and counted in
 * the latency the server reports (the answer's tookMs, GET .../stats).
 *
 * Written here rather than taken from a library: it is twenty lines of FIFO semaphore, and
 * the server needs what generic limiters do not give together: a bounded queue that sheds
 * immediately, a waiter dropped when its client goes away, and the wait time per request.
 */
import { availableParallelism } from 'node:os';
import { recordSearchQueue } from '../observe/metrics.js';
import { HttpError } from './http-errors.js';

export interface AdmissionLimits {
  /** Searches that run at once. */
  concurrency: number;
  /** Searches that may wait for a turn; past it, 429. */
  queue: number;
  /** Longest expected wait for a turn; past it a search is shed (undefined: the mean search time, at least 20 ms). */
  targetWaitMs?: number;
}

/**
 * Defaults sized from the machine. One search at a time: its query embedding runs on the
 * embedding worker (worker-embedder.ts), one forward pass at a time, itself spread over every
 * core, and the rest (BM25, scoring, SQLite) is synchronous on the server's one JavaScript
 * thread, so two at once only interleave, each taking longer for the same throughput. The
 * event loop stays free meanwhile, so arrivals are admitted or shed as they come. A burst of
 * up to 8 per core may wait; the target wait adapts to the search time.
 */
export function defaultAdmissionLimits(env: NodeJS.ProcessEnv = process.env): AdmissionLimits {
  const cores = Math.max(1, availableParallelism());
  const fromEnv = (name: string, fallback: number, min: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got "${raw}"`);
    return n;
  };
  const concurrency = fromEnv('QUARRY_MAX_SEARCHES', 1, 1);
  const target = fromEnv('QUARRY_QUEUE_TARGET_MS', 0, 0);
  return { concurrency, queue: fromEnv('QUARRY_MAX_QUEUED_SEARCHES', 8 * cores, 0), ...(target > 0 ? { targetWaitMs: target } : {}) };
}

interface Waiter {
  start: () => void;
  cancelled: boolean;
}

/** A turn to search: release it when the answer is built. */
export interface Turn {
  waitedMs: number;
  release: () => void;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Mean time of a search (exponentially weighted): the default target wait, Retry-After. */
  private meanMs = 20;

  constructor(readonly limits: AdmissionLimits) {
    if (!(limits.concurrency >= 1) || !(limits.queue >= 0)) throw new Error('admission needs concurrency >= 1 and queue >= 0');
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** The longest a search should wait for its turn; one that would wait longer is shed. */
  get targetWaitMs(): number {
    return this.limits.targetWaitMs ?? Math.max(20, this.meanMs);
  }

  /**
   * Waits for a turn; throws 429 at once when the queue is full. `onAbandon` registers a
   * callback for a client that goes away while waiting: its place is given up.
   */
  async enter(onAbandon?: (cancel: () => void) => void): Promise<Turn> {
    const t0 = performance.now();
    if (this.running < this.limits.concurrency && this.waiting.length === 0) {
      this.running++;
      recordSearchQueue('admitted', 0);
      return this.turn(t0, 0);
    }
    const expectedWaitMs = (this.waiting.length / this.limits.concurrency) * this.meanMs;
    if (this.waiting.length >= this.limits.queue || expectedWaitMs > this.targetWaitMs) {
      recordSearchQueue('shed');
      const seconds = Math.max(1, Math.ceil(((this.waiting.length + this.running) / this.limits.concurrency) * (this.meanMs / 1000)));
      throw new HttpError(
        429,
        'OVERLOADED',
        `the server is answering all the searches it can (${this.running} at once, ${this.waiting.length} waiting); retry after ${seconds} s`,
        undefined,
        { 'retry-after': String(seconds) },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = { start: resolve, cancelled: false };
      this.waiting.push(w);
      onAbandon?.(() => {
        if (w.cancelled) return;
        const i = this.waiting.indexOf(w);
        if (i < 0) return; // already started: its turn is released by the request
        w.cancelled = true;
        this.waiting.splice(i, 1);
        recordSearchQueue('abandoned');
        reject(new HttpError(499, 'CLIENT_CLOSED', 'the client closed the connection while the search waited'));
      });
    });
    const waited = performance.now() - t0;
    recordSearchQueue('admitted', waited / 1000);
    return this.turn(t0, waited);
  }

  private turn(t0: number, waitedMs: number): Turn {
    let done = false;
    const begun = t0 + waitedMs;
    return {
      waitedMs,
      release: () => {
        if (done) return;
        done = true;
        this.meanMs = 0.9 * this.meanMs + 0.1 * (performance.now() - begun);
        const next = this.waiting.shift();
        // the turn passes straight to the next waiter: running stays the same
        if (next) next.start();
        else this.running--;
      },
    };
  }
}
